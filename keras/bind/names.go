package bind

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	snakeNonWord = regexp.MustCompile(`\W+`)
	snakeWord    = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	snakeLower   = regexp.MustCompile(`([a-z])([A-Z])`)
)

// SnakeCase is Keras 3's naming.to_snake_case, which names the groups of a
// store after each layer's class: Conv2DTranspose -> conv2d_transpose,
// PReLU -> p_re_lu.
func SnakeCase(class string) string {
	s := snakeNonWord.ReplaceAllString(class, "")
	s = snakeWord.ReplaceAllString(s, "${1}_${2}")
	s = snakeLower.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(s)
}

// ListNames returns the group name Keras 3's saving_lib gives each element
// of a list of layers (a model's layers, a StackedRNNCells' cells): the
// snake-case class, numbered _1, _2, ... per class in list order.
func ListNames(classes []string) []string {
	seen := make(map[string]int)
	out := make([]string, len(classes))
	for i, c := range classes {
		base := SnakeCase(c)
		n := seen[base]
		seen[base]++
		out[i] = base
		if n > 0 {
			out[i] = base + "_" + strconv.Itoa(n)
		}
	}
	return out
}

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

// CheckpointNames returns the group names tf.keras 2.13 gave a model's
// layers in a store. Their saver reached the layers through the
// model's _layer_checkpoint_dependencies, which lists a layer that has
// weights twice (as "layer_with_weights-k" and as "layer-i"), and named
// every entry it met like ListNames does, before skipping the second
// entry of a layer it had saved: a Sequential CNN's two Conv2D layers are
// conv2d and conv2d_2. weighted tells which layers had weights. (2.14
// skipped a layer it had saved before naming it, as ListNames counts.)
func CheckpointNames(classes []string, weighted []bool) []string {
	seen := make(map[string]int)
	out := make([]string, len(classes))
	for i, c := range classes {
		base := SnakeCase(c)
		n := seen[base]
		seen[base]++
		if i < len(weighted) && weighted[i] {
			seen[base]++
		}
		out[i] = base
		if n > 0 {
			out[i] = base + "_" + strconv.Itoa(n)
		}
	}
	return out
}

package keras

// registry maps a Keras class_name to the constructor that decodes its
// config. One line per class, sorted; the file named in the comment holds
// everything about the class.
var registry = map[string]func(*decoder) (layerKind, error){
	"Dense":     newDense,     // dense.go
	"GRU":       newGRU,       // rnn.go
	"LSTM":      newLSTM,      // rnn.go
	"SimpleRNN": newSimpleRNN, // rnn.go
}

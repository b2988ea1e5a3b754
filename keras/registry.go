package keras

// registry maps a Keras class_name to the constructor that decodes its
// config. It is the one list of the classes kerascope understands: one line
// per class, grouped by the file that holds everything about the class
// (config decoding, output shapes, weights), sorted within each group.
// Legacy spellings (Keras 1 and 2 class names) map to the same constructor.
var registry = map[string]func(*decoder) (layerKind, error){
	// dense.go
	"Dense": newDense,

	// rnn.go
	"CuDNNGRU":        newCuDNNGRU,
	"CuDNNLSTM":       newCuDNNLSTM,
	"GRU":             newGRU,
	"GRUCell":         newGRUCell,
	"LSTM":            newLSTM,
	"LSTMCell":        newLSTMCell,
	"RNN":             newRNN,
	"SimpleRNN":       newSimpleRNN,
	"SimpleRNNCell":   newSimpleRNNCell,
	"StackedRNNCells": newStackedRNNCells,

	// wrappers.go
	"Bidirectional":   newBidirectional,
	"TimeDistributed": newTimeDistributed,
}

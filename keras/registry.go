package keras

import "sort"

// registry maps a Keras class_name to the constructor that decodes its
// config. It is the one list of the classes kerascope understands: one line
// per class, grouped by the file that holds everything about the class
// (config decoding, output shapes, weights), sorted within each group.
// Legacy spellings (Keras 1 and 2 class names) map to the same constructor.
var registry = map[string]func(*decoder) (layerKind, error){
	// activation.go
	"ELU":             newELU,
	"LeakyReLU":       newLeakyReLU,
	"PReLU":           newPReLU,
	"ReLU":            newReLU,
	"Softmax":         newSoftmax,
	"ThresholdedReLU": newThresholdedReLU,

	// applications.go
	"CustomScaleLayer": newCustomScaleLayer,
	"LayerScale":       newLayerScale,
	"StochasticDepth":  newStochasticDepth,

	// attention.go
	"AdditiveAttention":  newAdditiveAttention,
	"Attention":          newAttention,
	"MultiHeadAttention": newMultiHeadAttention,

	// conv.go
	"AtrousConv1D":           newConv(plainConv, 1),
	"AtrousConv2D":           newConv(plainConv, 2),
	"AtrousConvolution1D":    newConv(plainConv, 1),
	"AtrousConvolution2D":    newConv(plainConv, 2),
	"Conv1D":                 newConv(plainConv, 1),
	"Conv1DTranspose":        newConv(transposeConv, 1),
	"Conv2D":                 newConv(plainConv, 2),
	"Conv2DTranspose":        newConv(transposeConv, 2),
	"Conv3D":                 newConv(plainConv, 3),
	"Conv3DTranspose":        newConv(transposeConv, 3),
	"Convolution1D":          newConv(plainConv, 1),
	"Convolution1DTranspose": newConv(transposeConv, 1),
	"Convolution2D":          newConv(plainConv, 2),
	"Convolution2DTranspose": newConv(transposeConv, 2),
	"Convolution3D":          newConv(plainConv, 3),
	"Convolution3DTranspose": newConv(transposeConv, 3),
	"Deconv2D":               newConv(transposeConv, 2),
	"Deconv3D":               newConv(transposeConv, 3),
	"Deconvolution2D":        newConv(transposeConv, 2),
	"Deconvolution3D":        newConv(transposeConv, 3),
	"DepthwiseConv1D":        newConv(depthwiseConv, 1),
	"DepthwiseConv2D":        newConv(depthwiseConv, 2),
	"SeparableConv1D":        newConv(separableConv, 1),
	"SeparableConv2D":        newConv(separableConv, 2),
	"SeparableConvolution1D": newConv(separableConv, 1),
	"SeparableConvolution2D": newConv(separableConv, 2),

	// core.go
	"Activation":             newActivation,
	"ActivityRegularization": newActivityRegularization,
	"AlphaDropout":           newDropout(0),
	"Dropout":                newDropout(0),
	"GaussianDropout":        newDropout(0),
	"GaussianNoise":          newGaussianNoise,
	"Identity":               newIdentity,
	"SpatialDropout1D":       newDropout(3),
	"SpatialDropout2D":       newDropout(4),
	"SpatialDropout3D":       newDropout(5),

	// convlstm.go
	"ConvLSTM1D": newConvLSTM(1),
	"ConvLSTM2D": newConvLSTM(2),
	"ConvLSTM3D": newConvLSTM(3),

	// dense.go
	"Dense": newDense,

	// einsum.go
	"EinsumDense": newEinsumDense,

	// embedding.go
	"Embedding": newEmbedding,
	"Masking":   newMasking,

	// merge.go
	"Add":         newElemwise,
	"Average":     newElemwise,
	"Concatenate": newConcatenate,
	"Dot":         newDot,
	"Maximum":     newElemwise,
	"Merge":       newLegacyMerge,
	"Minimum":     newElemwise,
	"Multiply":    newElemwise,
	"Subtract":    newSubtract,

	// norm.go
	"BatchNormalization":     newBatchNorm,
	"GroupNormalization":     newGroupNorm,
	"LayerNormalization":     newLayerNorm,
	"Normalization":          newNormalization,
	"RMSNormalization":       newRMSNorm,
	"SyncBatchNormalization": newBatchNorm,
	"UnitNormalization":      newUnitNorm,

	// pool.go
	"AveragePooling1D":       newAvgPool(1),
	"AveragePooling2D":       newAvgPool(2),
	"AveragePooling3D":       newAvgPool(3),
	"AvgPool1D":              newAvgPool(1),
	"AvgPool2D":              newAvgPool(2),
	"AvgPool3D":              newAvgPool(3),
	"GlobalAveragePooling1D": newGlobalAvgPool(1),
	"GlobalAveragePooling2D": newGlobalAvgPool(2),
	"GlobalAveragePooling3D": newGlobalAvgPool(3),
	"GlobalAvgPool1D":        newGlobalAvgPool(1),
	"GlobalAvgPool2D":        newGlobalAvgPool(2),
	"GlobalAvgPool3D":        newGlobalAvgPool(3),
	"GlobalMaxPool1D":        newGlobalMaxPool(1),
	"GlobalMaxPool2D":        newGlobalMaxPool(2),
	"GlobalMaxPool3D":        newGlobalMaxPool(3),
	"GlobalMaxPooling1D":     newGlobalMaxPool(1),
	"GlobalMaxPooling2D":     newGlobalMaxPool(2),
	"GlobalMaxPooling3D":     newGlobalMaxPool(3),
	"MaxPool1D":              newMaxPool(1),
	"MaxPool2D":              newMaxPool(2),
	"MaxPool3D":              newMaxPool(3),
	"MaxPooling1D":           newMaxPool(1),
	"MaxPooling2D":           newMaxPool(2),
	"MaxPooling3D":           newMaxPool(3),

	// preprocess.go
	"CenterCrop": newCenterCrop,
	"Rescaling":  newRescaling,
	"Resizing":   newResizing,

	// reshape.go
	"Cropping1D":    newCropping(1),
	"Cropping2D":    newCropping(2),
	"Cropping3D":    newCropping(3),
	"Flatten":       newFlatten,
	"Permute":       newPermute,
	"RepeatVector":  newRepeatVector,
	"Reshape":       newReshape,
	"UpSampling1D":  newUpSampling(1),
	"UpSampling2D":  newUpSampling(2),
	"UpSampling3D":  newUpSampling(3),
	"ZeroPadding1D": newZeroPadding(1),
	"ZeroPadding2D": newZeroPadding(2),
	"ZeroPadding3D": newZeroPadding(3),

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

	// tfop.go
	"SlicingOpLambda": newTFOp,
	"TFOpLambda":      newTFOp,

	// wrappers.go
	"Bidirectional":   newBidirectional,
	"TimeDistributed": newTimeDistributed,
}

// Classes lists, sorted, the layer classes whose shapes and weights
// kerascope computes.
func Classes() []string {
	out := make([]string, 0, len(registry))
	for c := range registry {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

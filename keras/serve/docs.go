package serve

import (
	"strconv"

	"github.com/kerascope/kerascope/keras"
)

// The status and metadata answers, as protobuf's JSON printer writes
// TF Serving's GetModelStatusResponse and GetModelMetadataResponse
// (int64 fields as strings, every field printed).

type versionStatus struct {
	Version string `json:"version"`
	State   string `json:"state"`
	Status  struct {
		ErrorCode    string `json:"error_code"`
		ErrorMessage string `json:"error_message"`
	} `json:"status"`
}

func statusDoc(entries []statusEntry) any {
	out := make([]versionStatus, len(entries))
	for i, e := range entries {
		out[i].Version = strconv.FormatInt(e.num, 10)
		out[i].State = e.state
		out[i].Status.ErrorCode = "OK"
		if e.err != "" {
			out[i].Status.ErrorCode = "UNKNOWN"
			out[i].Status.ErrorMessage = e.err
		}
	}
	return map[string]any{"model_version_status": out}
}

type dim struct {
	Size string `json:"size"`
	Name string `json:"name"`
}

type tensorInfo struct {
	Dtype       string `json:"dtype"`
	TensorShape struct {
		Dim         []dim `json:"dim"`
		UnknownRank bool  `json:"unknown_rank"`
	} `json:"tensor_shape"`
	Name string `json:"name"`
}

func info(shape keras.Shape, tensor string) tensorInfo {
	var t tensorInfo
	t.Dtype = "DT_FLOAT"
	t.TensorShape.Dim = make([]dim, len(shape))
	for i, d := range shape {
		t.TensorShape.Dim[i] = dim{Size: strconv.Itoa(d), Name: ""}
	}
	t.Name = tensor
	return t
}

// metadataDoc describes the serving_default signature a Keras model
// exported as a SavedModel has: inputs keyed by input layer name, outputs
// by (unique) output layer name, tensor names as a Keras export gives
// them.
func metadataDoc(name string, v *version) any {
	inputs := make(map[string]tensorInfo)
	for _, p := range v.inputs {
		inputs[p.Name] = info(p.Shape, "serving_default_"+p.Name+":0")
	}
	outputs := make(map[string]tensorInfo)
	for i, p := range v.net.Outputs() {
		outputs[v.outputs[i]] = info(p.Shape, "StatefulPartitionedCall:"+strconv.Itoa(i))
	}
	sig := map[string]any{
		"inputs":      inputs,
		"outputs":     outputs,
		"method_name": "tensorflow/serving/predict",
		"defaults":    map[string]any{},
	}
	return map[string]any{
		"model_spec": map[string]any{"name": name, "signature_name": "", "version": strconv.FormatInt(v.num, 10)},
		"metadata": map[string]any{"signature_def": map[string]any{
			"signature_def": map[string]any{signatureName: sig},
		}},
	}
}

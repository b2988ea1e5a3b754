package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Real clients: the curl commands of TF Serving's REST API documentation
// (api_rest.md, "Make REST API calls to ModelServer") and the Python
// requests code of its Keras tutorial ("Train and serve a TensorFlow model
// with TensorFlow Serving", "Make REST requests"), pointed at this server
// on loopback instead of localhost:8501.

func TestCurlExamples(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed: the documented curl examples cannot run")
	}
	in, want := fixtureIO(t, "core_fn", "k3.keras")
	url := compatServer(t, Options{})

	// $ curl http://localhost:8501/v1/models/half_plus_three
	out, err := exec.Command(curl, "-s", url+"/v1/models/core").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, out, []byte(`{"model_version_status": [{"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}`)) {
		t.Errorf("status: %s", out)
	}

	// $ curl -d '{"instances": [1.0,2.0,5.0]}' -X POST http://localhost:8501/v1/models/half_plus_three:predict
	body := mustJSON(t, map[string]any{"instances": nested(in[0].Shape, in[0].Data)})
	out, err = exec.Command(curl, "-s", "-d", string(body), "-X", "POST", url+"/v1/models/core:predict").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPrediction(out, rowFormat, []string{"concatenate"}, want); err != nil {
		t.Errorf("predict: %v\n%s", err, out)
	}

	// $ curl -i -d '{"instances": [1.0,5.0]}' -X POST http://localhost:8501/v1/models/half:predict
	// HTTP/1.1 404 Not Found
	// Content-Type: application/json
	// { "error": "Servable not found for request: Latest(half)" }
	out, err = exec.Command(curl, "-s", "-i", "-d", `{"instances": [1.0,5.0]}`, "-X", "POST", url+"/v1/models/half:predict").Output()
	if err != nil {
		t.Fatal(err)
	}
	head, rest, _ := strings.Cut(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n\n")
	if !strings.HasPrefix(head, "HTTP/1.1 404 Not Found") || !strings.Contains(head, "Content-Type: application/json") ||
		!sameJSON(t, []byte(rest), []byte(`{ "error": "Servable not found for request: Latest(half)" }`)) {
		t.Errorf("unknown model:\n%s", out)
	}
}

// The tutorial's client code, unchanged but for the URL, the model name
// and the images (a fixture's input); it prints the predictions.
const requestsClient = `
import json, sys
import numpy as np
import requests

test_images = np.load(sys.argv[2])
data = json.dumps({"signature_name": "serving_default", "instances": test_images[0:3].tolist()})
headers = {"content-type": "application/json"}
json_response = requests.post(sys.argv[1] + '/v1/models/fashion_model:predict', data=data, headers=headers)
predictions = json.loads(json_response.text)['predictions']
print(json.dumps({"predictions": predictions}))
`

func TestPythonRequestsClient(t *testing.T) {
	python, err := filepath.Abs("../../testdata/gen/.venv/bin/python")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(python); err != nil {
		t.Skip("no fixture venv (testdata/gen/.venv; make it with bash testdata/gen/setup.sh): the Python requests client cannot run")
	}
	if err := exec.Command(python, "-c", "import requests, numpy").Run(); err != nil {
		t.Skip("the fixture venv lacks requests or numpy: the Python requests client cannot run")
	}
	dir := filepath.Join(modelsDir, "bench_mlp")
	_, ts := newTestServer(t, []Model{{Name: "fashion_model", Path: filepath.Join(dir, "k3.keras")}}, Options{})
	script := filepath.Join(t.TempDir(), "client.py")
	if err := os.WriteFile(script, []byte(requestsClient), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(python, script, ts.URL, filepath.Join(dir, "input.npy"))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	_, want := fixtureIO(t, "bench_mlp", "k3.keras")
	three := *want[0]
	three.Shape = append([]int{3}, want[0].Shape[1:]...)
	three.Data = want[0].Data[:3*want[0].Shape[1]]
	var check map[string]any
	if err := json.Unmarshal(out, &check); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := checkPrediction(out, rowFormat, []string{"dense_2"}, append(want[:0:0], &three)); err != nil {
		t.Error(fmt.Errorf("predictions: %w", err))
	}
}

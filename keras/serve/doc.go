// Package serve serves Keras models over TensorFlow Serving's REST API,
// so that clients written for TF Serving work unchanged against a .keras
// or .h5 file:
//
//	s, err := serve.New([]serve.Model{{Name: "mnist", Path: "mnist.keras"}}, serve.Options{})
//	if err != nil { ... }
//	if err := s.Start(); err != nil { ... }
//	defer s.Close()
//	http.ListenAndServe("127.0.0.1:8501", s)
//
// A Server is an http.Handler; see Server for its endpoints and Options
// for its limits. It follows TF Serving's sources
// (tensorflow_serving/model_servers/http_rest_api_handler.cc,
// tensorflow_serving/util/json_tensor.cc) for request and response forms,
// error messages and status codes. Every model input is DT_FLOAT (values
// are converted to float32 as TF Serving converts them, refusing integers
// beyond 2^24 and numbers beyond float32's range), and the one signature
// is "serving_default". Version labels are not configurable, so a request
// naming one is refused as TF Serving refuses an unknown label.
//
// This package builds on the keras package's public API only (Load, Net,
// Tensor). It must not import the command (cmd/...) nor the summary
// package: a Go program mounting the handler should not pull in the CLI
// or the summary printer.
package serve

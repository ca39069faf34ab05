// Package stagetest helps test plugins: it writes a configuration
// directory into a temporary directory and loads it with the real loaders
// (config.Load, stage.Load), builds requests and connections as the
// server would fill them, serves a request through a Pipeline's rules
// following internal redirects ([Serve]), and records streamed responses
// ([StreamRecorder]).
//
// It is for tests only; it is not a server and runs no connection.
package stagetest

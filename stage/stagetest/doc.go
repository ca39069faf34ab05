// Package stagetest helps test plugins: it writes a configuration
// directory into a temporary directory and loads it with the real loaders
// (config.Load, stage.Load), and builds requests and connections as the
// server would fill them.
//
// It is for tests only; it is not a server and runs no connection.
package stagetest

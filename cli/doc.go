// Package cli is the shopease command line: the command tree, their flags and help, and the
// configuration layering (flags, then SHOPEASE_* environment variables, then a config file, then
// defaults). cmd/shopease only calls Main, so every command is testable in-process.
package cli

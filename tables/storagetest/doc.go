// Package storagetest is the conformance suite for goka table storages: one set of table-driven
// tests that goka's memory store, goka's LevelDB store and this project's Pebble store (package
// tables) all run, so that a processor behaves the same whichever one it is given.
//
// The reference behaviour is goka's LevelDB store, the one goka ships as its default and the one
// the Pebble store replaces. Where goka's own stores disagree with it, the difference is declared
// as a Quirk and the suite asserts the quirky behaviour exactly, so a change in goka shows up as a
// failing test rather than passing silently. MemoryQuirks and LevelDBQuirks list them.
package storagetest

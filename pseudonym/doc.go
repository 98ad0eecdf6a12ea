// Package pseudonym replaces raw user ids with keyed pseudonyms: HMAC-SHA256 under a versioned
// secret, never a plain hash (a plain hash of a small id space is reversed by enumeration). The
// pseudonym carries the key version, so keys can be rotated without mixing populations.
//
// No raw user id may leave the raw topics; the gateways call Pseudonymizer.Of before anything is
// written to a clean topic, a table, the lake, Redis or a log line.
package pseudonym

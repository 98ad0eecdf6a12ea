// Package event defines the ShopEase event model: the records that travel on the raw and clean
// topics (activity, transaction lines, inventory updates, reviews, dead letters) and the exact
// fixed-point Money type every amount is kept in.
//
// The same structs serve the raw topics, where user ids are raw and fields may be missing or wrong
// (the gateways reject such records with a reason), and the clean topics, where every user id is a
// pseudonym and every field has been validated. Encoding lives in package codecs.
package event

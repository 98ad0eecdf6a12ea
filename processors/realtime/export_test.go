package realtime

// SpikesKey is the spike detector's table key, for the external tests.
const SpikesKey = spikesKey

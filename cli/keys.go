package cli

import (
	"flag"
	"fmt"

	"github.com/shopease/shopease/pseudonym"
)

// keyFlags choose the pseudonymization key of the gateways.
type keyFlags struct {
	key     string
	demoKey bool
}

func (k *keyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.key, "pseudonym-key", "", "pseudonymization key v<N>:<secret> (≥ 32 bytes; base64, hex or text); prefer SHOPEASE_PSEUDONYM_KEY or the config file, since flags show in ps")
	fs.BoolVar(&k.demoKey, "demo-key", false, "use the PUBLIC demo key (pseudonyms then protect nothing); refused together with --pseudonym-key")
}

// pseudonymizer returns the configured Pseudonymizer. Production mode (no --demo-key) refuses to
// start without a key, and never accepts the demo key.
func (k *keyFlags) pseudonymizer(e *env) (*pseudonym.Pseudonymizer, error) {
	switch {
	case k.demoKey && k.key != "":
		return nil, usagef("--demo-key and --pseudonym-key exclude each other")
	case k.demoKey:
		e.log.Warn("using the PUBLIC demo pseudonymization key: pseudonyms protect nothing; never use it for real data")
		return pseudonym.Demo(), nil
	case k.key == "":
		return nil, fmt.Errorf("%w", pseudonym.ErrNoKey)
	}
	key, err := pseudonym.ParseKey(k.key)
	if err != nil {
		return nil, fmt.Errorf("--pseudonym-key: %w", err)
	}
	return pseudonym.New(key, false)
}

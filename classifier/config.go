package classifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/cache"
)

// Seconds is a duration that reads and writes JSON as a number of seconds.
// The zero value means "use the default".
type Seconds float64

// D returns s as a time.Duration.
func (s Seconds) D() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// Config configures an Engine. The zero value is usable: every empty field
// takes its environment override, then its default (see WithDefaults).
// It reads from and writes to JSON with the tags below; that is the form the
// C ABI and the Python package pass.
type Config struct {
	// DataDir holds the persisted source snapshots. Default:
	// $IPCLASSIFIER_DATA_DIR, else $XDG_CACHE_HOME/ipclassifier, else
	// ~/.cache/ipclassifier.
	DataDir string `json:"data_dir,omitempty"`

	// Source locations (http, https or file URLs). Defaults: the real public
	// lists; environment overrides TOR_BULK_LIST_URL, CLOUD_RANGES_BASE_URL,
	// DATACENTER_RANGES_URL and HOSTING_RANGES_BASE_URL.
	TorURL         string `json:"tor_url,omitempty"`
	CloudBaseURL   string `json:"cloud_base_url,omitempty"`
	DatacenterURL  string `json:"datacenter_url,omitempty"`
	HostingBaseURL string `json:"hosting_base_url,omitempty"`
	// CloudProviders limits the cloud sources loaded (aws, azure, gcp,
	// cloudflare, digitalocean, oracle, linode, vultr); empty means all.
	CloudProviders []string `json:"cloud_providers,omitempty"`

	// Refresh intervals. Defaults: tor 1 h, cloud 24 h, jhassine datacenter
	// list 7 d, X4BNet hosting lists 24 h.
	TorInterval        Seconds `json:"tor_interval,omitempty"`
	CloudInterval      Seconds `json:"cloud_interval,omitempty"`
	DatacenterInterval Seconds `json:"datacenter_interval,omitempty"`
	HostingInterval    Seconds `json:"hosting_interval,omitempty"`

	// HTTP behaviour. Defaults: 30 s timeout per attempt, 3 attempts,
	// backoff starting at 1 s and doubling.
	HTTPTimeout Seconds `json:"http_timeout,omitempty"`
	Attempts    int     `json:"attempts,omitempty"`
	Backoff     Seconds `json:"backoff,omitempty"`
	UserAgent   string  `json:"user_agent,omitempty"`

	// Cache configures the L1/L2/L3 answer cache; its zero value disables
	// every tier.
	Cache cache.Config `json:"cache"`

	// Now replaces the clock in tests; nil means time.Now.
	Now func() time.Time `json:"-"`
}

// ParseConfig reads a JSON configuration; unknown keys are an error so a
// typo does not silently fall back to a default.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if len(data) == 0 {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parse config: %w", err)
	}
	return c, nil
}

// WithDefaults returns c with every empty field filled from the environment
// and then from the defaults.
func (c Config) WithDefaults() Config {
	setStr := func(p *string, env, def string) {
		if *p == "" {
			*p = os.Getenv(env)
		}
		if *p == "" {
			*p = def
		}
	}
	setStr(&c.DataDir, "IPCLASSIFIER_DATA_DIR", defaultDataDir())
	setStr(&c.TorURL, "TOR_BULK_LIST_URL", DefaultTorURL)
	setStr(&c.CloudBaseURL, "CLOUD_RANGES_BASE_URL", DefaultCloudBaseURL)
	setStr(&c.DatacenterURL, "DATACENTER_RANGES_URL", DefaultDatacenterURL)
	setStr(&c.HostingBaseURL, "HOSTING_RANGES_BASE_URL", DefaultHostingBaseURL)
	setStr(&c.UserAgent, "IPCLASSIFIER_USER_AGENT", "ipclassifier/"+Version)
	setSec := func(p *Seconds, def time.Duration) {
		if *p <= 0 {
			*p = Seconds(def.Seconds())
		}
	}
	setSec(&c.TorInterval, time.Hour)
	setSec(&c.CloudInterval, 24*time.Hour)
	setSec(&c.DatacenterInterval, 7*24*time.Hour)
	setSec(&c.HostingInterval, 24*time.Hour)
	setSec(&c.HTTPTimeout, 30*time.Second)
	setSec(&c.Backoff, time.Second)
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "ipclassifier")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "ipclassifier")
	}
	return filepath.Join(os.TempDir(), "ipclassifier-"+strconv.Itoa(os.Getuid()))
}

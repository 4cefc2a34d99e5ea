package classifier_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// fixtureConfig points every source at the hand-written fixtures of
// tests_go/testdata (file:// URLs work like http(s):// ones), with a data
// directory of its own.
func fixtureConfig(dataDir string) classifier.Config {
	dir, _ := filepath.Abs(filepath.Join("..", "tests_go", "testdata"))
	base := "file://" + dir
	return classifier.Config{
		DataDir:        dataDir,
		TorURL:         base + "/torbulkexitlist",
		OnionooURL:     base + "/onionoo/details.json",
		CloudBaseURL:   base + "/cloud",
		DatacenterURL:  base + "/datacenters.csv",
		HostingBaseURL: base + "/hosting",
		HostingASNURL:  base + "/hosting/ASN.txt",
		ASNV4URL:       base + "/asn/ip2asn-v4.tsv.gz",
		ASNV6URL:       base + "/asn/ip2asn-v6.tsv",
		PeeringDBURL:   base + "/peeringdb/net.json",
	}
}

// An engine opens from a configuration (zero fields take their defaults
// and environment overrides), downloads its sources with Refresh and then
// answers from memory. A later Open of the same data directory answers at
// once from the snapshots persisted here, with no network.
func Example() {
	dataDir, _ := os.MkdirTemp("", "ipclassifier-example-")
	defer os.RemoveAll(dataDir)
	e, err := classifier.Open(fixtureConfig(dataDir))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Refresh(ctx, classifier.GroupAll, false); err != nil {
		fmt.Println(err)
		return
	}
	for _, ip := range []string{"185.220.101.1", "3.5.140.7", "192.0.2.1"} {
		r, err := e.Classify(ctx, ip, 0, "")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %s %s %s (%s, %.2f)\n", r.IP, r.Type, r.Provider, r.Region, r.Source, r.Confidence)
	}
	// Output:
	// 185.220.101.1: tor tor  (tor_bulk_list, 0.95)
	// 3.5.140.7: cloud aws ap-northeast-2 (cloud_ranges_aws, 0.99)
	// 192.0.2.1: unknown   (none, 0.00)
}

// Whatever the caller passes that is not a plain address is an
// *InvalidIPError naming it, which errors.Is recognises as ErrInvalidIP.
func ExampleInvalidIPError() {
	dataDir, _ := os.MkdirTemp("", "ipclassifier-example-")
	defer os.RemoveAll(dataDir)
	e, err := classifier.Open(classifier.Config{DataDir: dataDir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	_, err = e.Classify(context.Background(), "10.0.0.1/8", 0, "")
	var bad *classifier.InvalidIPError
	fmt.Println(errors.Is(err, classifier.ErrInvalidIP), errors.As(err, &bad) && bad.Input == "10.0.0.1/8")
	fmt.Println(err)
	// Output:
	// true true
	// invalid IP address "10.0.0.1/8": a prefix is not an address
}

// The caller's ASN data, when it has some, decides the AS-name heuristic:
// here no list knows the address, and the name says an access network.
func ExampleEngine_Classify_asName() {
	dataDir, _ := os.MkdirTemp("", "ipclassifier-example-")
	defer os.RemoveAll(dataDir)
	e, err := classifier.Open(classifier.Config{DataDir: dataDir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	r, err := e.Classify(context.Background(), "198.51.100.7", 3320, "DTAG Internet service provider operations")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Type, r.Source, r.ASN, r.ASNSource)
	// Output:
	// residential asn_name_heuristic 3320 caller
}

// A host that turns answers into objects of its own keeps them by
// Result.Key: answers of one key differ only in their address, times and
// stale flag, so what it made of the first serves the others.
func ExampleResult_Key() {
	dataDir, _ := os.MkdirTemp("", "ipclassifier-example-")
	defer os.RemoveAll(dataDir)
	e, err := classifier.Open(fixtureConfig(dataDir))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Refresh(ctx, classifier.GroupAll, false); err != nil {
		fmt.Println(err)
		return
	}
	made := map[uint64]string{} // key → what the host made of the answer
	for _, ip := range []string{"3.5.140.7", "3.5.141.200", "185.220.101.1", "3.5.140.9"} {
		r, err := e.Classify(ctx, ip, 0, "")
		if err != nil {
			fmt.Println(err)
			return
		}
		if _, ok := made[r.Key()]; !ok {
			made[r.Key()] = fmt.Sprintf("%s %s %s", r.Type, r.Provider, r.MatchedPrefix)
			fmt.Println("made:", made[r.Key()])
		}
		fmt.Printf("%s → %s\n", r.IP, made[r.Key()])
	}
	// Output:
	// made: cloud aws 3.5.140.0/22
	// 3.5.140.7 → cloud aws 3.5.140.0/22
	// 3.5.141.200 → cloud aws 3.5.140.0/22
	// made: tor tor 185.220.101.1/32
	// 185.220.101.1 → tor tor 185.220.101.1/32
	// 3.5.140.9 → cloud aws 3.5.140.0/22
}

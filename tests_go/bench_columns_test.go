package tests_go

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/wire"
)

// BenchmarkBatchOutput compares the outputs of a 10,000-address batch
// over the real snapshots: text records (ClassifyBatch) and the columnar
// batch (ClassifyColumns) without and with the evidence column, engine
// call included.
func BenchmarkBatchOutput(b *testing.B) {
	e := benchEngine(b)
	ips := benchIPs(b)
	var sb strings.Builder
	for i := 0; i < 10000; i++ {
		sb.WriteString(ips[i%len(ips)])
		sb.WriteByte('\n')
	}
	text := sb.String()
	ctx := context.Background()
	b.Run("records", func(b *testing.B) {
		var dst []byte
		for b.Loop() {
			var err error
			if dst, _, err = wire.AppendBatch(ctx, dst[:0], e, text, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/ip")
	})
	for _, evidence := range []bool{false, true} {
		name := "columns"
		if evidence {
			name = "columns-with-evidence" // what bulk_classify asks for
		}
		b.Run(name, func(b *testing.B) {
			var dst []byte
			for b.Loop() {
				var err error
				if dst, _, err = wire.AppendColumns(ctx, dst[:0], e, text, time.Now(), evidence); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/ip")
		})
	}
}

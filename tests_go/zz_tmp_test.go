package tests_go

import (
	"context"
	"testing"

	"github.com/ipclassifier/ipclassifier/classifier/wire"
)

func BenchmarkTmpSingle(b *testing.B) {
	e := benchEngine(b)
	ctx := context.Background()
	ip := string([]byte("99.150.21.25"))
	b.Run("classify", func(b *testing.B) {
		for b.Loop() {
			r, _ := e.Classify(ctx, ip, 0, "")
			_ = r
		}
	})
	b.Run("classify+head", func(b *testing.B) {
		var dst []byte
		for b.Loop() {
			r, _ := e.Classify(ctx, ip, 0, "")
			dst = wire.AppendHead(dst[:0], &r, ip, r.ClassifiedAt, false)
		}
	})
	b.Run("classify+record", func(b *testing.B) {
		var dst []byte
		for b.Loop() {
			r, _ := e.Classify(ctx, ip, 0, "")
			dst = wire.AppendRecord(dst[:0], r, r.ClassifiedAt)
		}
	})
}

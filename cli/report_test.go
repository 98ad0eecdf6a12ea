package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopease/shopease/testenv"
)

// TestReportUsage: a report needs one known name and a known format (exit 2 otherwise).
func TestReportUsage(t *testing.T) {
	for _, args := range [][]string{
		{"report"},
		{"report", "--live", "bogus"},
		{"report", "top-products", "monthly-revenue"},
		{"report", "top-products", "--format", "xml"},
		{"report", "--live", "top-products", "--format", "xml"},
		{"report", "--live", "top-products", "--as-of", "yesterday"},
	} {
		if out, code := runMain(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2:\n%s", args, code, out)
		}
	}
}

// TestReportLive runs `shopease run` over a replayed Tiny history and asks `report --live
// monthly-revenue --format csv` until it prints the generator's truth, on both Kafkas.
func TestReportLive(t *testing.T) {
	dir, truth := tinyHistory(t)
	want := "month,gross,refunds,returns,net,orders,net_change,net_change_pct\n"
	for i, m := range truth.Months {
		change, pct := "", ""
		if i > 0 {
			prev := truth.Months[i-1].Net
			change = (m.Net - prev).String()
			pct = fmt.Sprintf("%.2f", float64(m.Net-prev)/float64(max(prev, -prev))*100)
		}
		want += fmt.Sprintf("%s,%s,%s,%s,%s,%d,%s,%s\n", m.Month, m.Gross, m.Refunds, m.Returns, m.Net, m.Orders, change, pct)
	}
	testenv.ForEachKafka(t, func(t *testing.T, k testenv.Kafka) {
		common := startCLIPipeline(t, k, dir+"/h")
		var got string
		for deadline := time.Now().Add(2 * time.Minute); ; {
			var out, logs bytes.Buffer
			code := Main(context.Background(), append([]string{"report", "--live", "monthly-revenue", "--format", "csv"}, common...), &out, &logs)
			got = out.String()
			if code == 0 && got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("report: exit %d\n%s\nwant:\n%s\nlogs:\n%s", code, got, want, logs.String())
			}
			time.Sleep(time.Second)
		}
		var out bytes.Buffer
		args := append([]string{"report", "--live", "top-products", "--as-of", "2024-03-15"}, common...)
		if code := Main(context.Background(), args, &out, &out); code != 0 || !strings.Contains(out.String(), truth.TopProducts[0].Products[0].ProductID) {
			t.Errorf("top products: exit %d:\n%s", code, out.String())
		}
		t.Logf("monthly revenue:\n%s", got)
	})
}

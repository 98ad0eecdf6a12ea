package generate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/shopease/shopease/event"
)

const minutesPerDay = 24 * 60

// txRow is one transaction line as it will be written: in the file of fileDay, with at most one
// defect, or as a duplicate (a re-send of a good line written earlier).
type txRow struct {
	line    event.TransactionLine
	defect  defect
	variant uint8 // which form the defect takes (0 or negative, dropped or extra field, ...)
	dup     bool
	fileDay int
}

// reviewRow is one review for the feedback file of fileDay.
type reviewRow struct {
	review  event.Review
	defect  defect
	fileDay int
}

// minuteStat is the truth of one minute of activity: accepted events per type and distinct users.
type minuteStat struct {
	active int32
	events [len(actTypeIndex)]int32
}

// actTypeIndex numbers event.ActivityTypes for minuteStat.events.
var actTypeIndex = [6]event.ActivityType{event.PageView, event.ProductView, event.Search, event.AddToCart, event.RemoveFromCart, event.CheckoutStart}

func typeIndex(t event.ActivityType) int {
	for i, k := range actTypeIndex {
		if k == t {
			return i
		}
	}
	return -1
}

// dayResult is what a day worker hands to the merger.
type dayResult struct {
	day      int
	err      error
	tx       []txRow     // rows for this day's file and later ones, in writing order
	reviews  []reviewRow // rows for later days' files
	act      *counts
	actFile  FileTruth
	minutes  []minuteStat
	spikes   []Spike
	sessions int
}

// dayGen generates one day; it owns its random stream and scratch space.
type dayGen struct {
	w       *world
	d       int
	r       *rand.Rand
	t0      time.Time
	date    string
	lastMin []int32 // per user: 1 + the last minute counted active (scratch, reused across days)
}

func (w *world) generateDay(ctx context.Context, d int, lastMin []int32) *dayResult {
	g := &dayGen{w: w, d: d, r: newRand(w.cfg.Seed, streamDay+uint64(d)), t0: w.day(d), lastMin: lastMin}
	g.date = g.t0.Format("20060102")
	res := &dayResult{day: d}
	acts, lines := g.sessions(res)
	if err := ctx.Err(); err != nil {
		res.err = err
		return res
	}
	res.tx, res.reviews = g.afterSales(lines)
	res.err = g.writeActivity(acts, res)
	return res
}

// sessions generates the day's ordinary sessions, then the spike sessions, and returns all events
// (in generation order, without ids) and the purchase lines.
func (g *dayGen) sessions(res *dayResult) ([]event.Activity, []event.TransactionLine) {
	r, w := g.r, g.w
	n := int(math.Round(float64(w.sessions) * (0.9 + 0.2*r.Float64())))
	res.sessions = n
	acts := make([]event.Activity, 0, n*8)
	var lines []event.TransactionLine
	orders := 0
	orderID := func() string {
		orders++
		return fmt.Sprintf("o%s-%06d", g.date, orders)
	}
	span := int64((24*time.Hour - maxSession) / time.Second)
	for s := range n {
		// A mild daily rhythm by rejection: busiest at 17:00, quietest at 05:00, 3:1, so the
		// busiest minutes stay far below a spike (≥ 10× the day's mean by default).
		var sec int64
		for {
			sec = r.Int64N(span)
			h := float64(sec) / 3600
			if r.Float64()*3 < 2+math.Sin((h-11)/24*2*math.Pi) {
				break
			}
		}
		sid := fmt.Sprintf("s%s-%06d", g.date, s+1)
		acts, lines = w.session(r, r.IntN(len(w.users)), g.t0.Add(time.Duration(sec)*time.Second), sid, orderID, acts, lines)
	}
	normal := len(acts)
	acts = g.spikeSessions(acts, normal, n, res)
	return acts, lines
}

// timeOrder returns the indices of acts in time order, ties in generation order. Sorting packed
// (second of day, index) keys is much cheaper than moving the events themselves.
func (g *dayGen) timeOrder(acts []event.Activity) []uint64 {
	keys := make([]uint64, len(acts))
	for i := range acts {
		keys[i] = uint64(acts[i].Time.Sub(g.t0)/time.Second)<<32 | uint64(i)
	}
	slices.Sort(keys)
	return keys
}

// numberedID formats prefix + date + "-" + n zero-padded to width digits ("a20240301-0000017").
func numberedID(buf []byte, prefix byte, date string, n, width int) string {
	buf = append(buf[:0], prefix)
	buf = append(buf, date...)
	buf = append(buf, '-')
	d := strconv.AppendInt(nil, int64(n), 10)
	for i := len(d); i < width; i++ {
		buf = append(buf, '0')
	}
	return string(append(buf, d...))
}

// spikeSessions adds, in each spike minute of the day, SpikeFactor times the day's mean events per
// minute (at least 100) as short sessions of many users arriving at once.
func (g *dayGen) spikeSessions(acts []event.Activity, normal, sessions int, res *dayResult) []event.Activity {
	r, w := g.r, g.w
	end := g.t0.Add(24 * time.Hour)
	mean := float64(normal) / minutesPerDay
	for _, m := range w.spikes {
		if m.Before(g.t0) || !m.Before(end) {
			continue
		}
		extra := max(int(math.Ceil(mean*float64(w.cfg.SpikeFactor))), 100)
		added := 0
		for added < extra {
			sessions++
			sid := fmt.Sprintf("s%s-%06d", g.date, sessions)
			u := r.IntN(len(w.users))
			k := min(2+r.IntN(3), extra-added)
			secs := make([]int, k)
			for i := range secs {
				secs[i] = r.IntN(60)
			}
			slices.Sort(secs)
			for i, s := range secs {
				typ, prod, page := event.PageView, "", "/deals"
				if i > 0 {
					p := &w.products[w.pickProduct(r)]
					typ, prod, page = event.ProductView, p.ID, p.Page
				}
				acts = append(acts, event.Activity{
					UserID: w.users[u], SessionID: sid, Type: typ, ProductID: prod, Page: page,
					Referrer: "social", Time: m.Add(time.Duration(s) * time.Second),
				})
			}
			added += k
		}
		res.spikes = append(res.spikes, Spike{Minute: m, Injected: int64(extra), DayMeanPerMinute: math.Round(mean*100) / 100})
	}
	return acts
}

// afterSales decides each purchase line's dirt and duplicates, and plans the refunds, returns and
// reviews of good lines at later dates (dropped when they would fall after the last day).
func (g *dayGen) afterSales(lines []event.TransactionLine) ([]txRow, []reviewRow) {
	r, w := g.r, g.w
	var own, later []txRow
	var reviews []reviewRow
	reviewN := 0
	emit := func(l event.TransactionLine) {
		fileDay := int(l.Time.Sub(w.start) / (24 * time.Hour))
		row := txRow{line: l, defect: draw(r, w.cfg.Dirt.txChoices()), variant: uint8(r.IntN(2)), fileDay: fileDay}
		dst := &later
		if fileDay == g.d {
			dst = &own
		}
		*dst = append(*dst, row)
		if row.defect == defectNone && r.Float64() < w.cfg.Dirt.TxDuplicate {
			dup := row
			dup.dup = true
			if r.IntN(2) == 0 && fileDay+1 < w.cfg.Days {
				dup.fileDay++
			}
			later = append(later, dup)
		}
	}
	for _, l := range lines {
		emit(l)
	}
	// Rows are emitted first so that a line's defect is drawn before its follow-ups; follow-ups
	// are planned only for lines the pipeline accepts.
	n := len(own)
	for i := 0; i < n; i++ {
		row := own[i]
		if row.defect != defectNone {
			continue
		}
		l := row.line
		ordinal := l.LineID[len(l.OrderID)+1:]
		switch x := r.IntN(100); {
		case x < 3:
			if at, ok := g.laterTime(l.Time, 20); ok {
				f := l
				f.Type, f.LineID, f.Time = event.Refund, l.OrderID+"-refund-"+ordinal, at
				emit(f)
			}
		case x < 7:
			if at, ok := g.laterTime(l.Time, 20); ok {
				f := l
				f.Type, f.LineID, f.Time, f.Quantity = event.Return, l.OrderID+"-return-"+ordinal, at, 1+r.Int64N(l.Quantity)
				emit(f)
			}
		}
		if r.IntN(100) < 8 {
			if at, ok := g.laterTime(l.Time, 14); ok {
				reviewN++
				reviews = append(reviews, g.review(l, at, reviewN))
			}
		}
	}
	return append(own, later...), reviews
}

// laterTime picks a time on one of the next maxDays days after t's day (of those in the history),
// before 23:55 (after the day's closing stock report is due, nothing moves stock), or reports
// false on the last day.
func (g *dayGen) laterTime(t time.Time, maxDays int) (time.Time, bool) {
	r := g.r
	from := int(t.Sub(g.w.start) / (24 * time.Hour))
	left := min(maxDays, g.w.cfg.Days-1-from)
	if left < 1 {
		return time.Time{}, false
	}
	day := from + 1 + r.IntN(left)
	sec := r.IntN(int((24*time.Hour - 5*time.Minute) / time.Second))
	return g.w.day(day).Add(time.Duration(sec) * time.Second), true
}

var (
	reviewTitles = [6]string{"", "Disappointing", "Not great", "OK", "Good value", "Great"}
	reviewTexts  = [6]string{"", "Broke after a week.", "Smaller than expected.", "Does the job.", "Happy with it, would buy again.", "Excellent quality & fast delivery!"}
)

func (g *dayGen) review(l event.TransactionLine, at time.Time, n int) reviewRow {
	r := g.r
	rating := []int{5, 5, 5, 4, 4, 4, 3, 2, 1}[r.IntN(9)]
	rv := event.Review{
		ReviewID: fmt.Sprintf("r%s-%06d", g.date, n), UserID: l.UserID, ProductID: l.ProductID,
		Rating: rating, Title: reviewTitles[rating], Text: reviewTexts[rating], Time: at,
	}
	row := reviewRow{review: rv, defect: draw(r, g.w.cfg.Dirt.fbChoices()), fileDay: int(at.Sub(g.w.start) / (24 * time.Hour))}
	switch row.defect {
	case defectBadRating:
		row.review.Rating = []int{0, 6}[r.IntN(2)]
	case defectMissingUser:
		row.review.UserID = ""
	}
	return row
}

var badActivityTypes = []event.ActivityType{"page_veiw", "hover", "wishlist_add"}

// writeActivity applies the activity dirt, writes the day's activity file and counts the truth.
func (g *dayGen) writeActivity(acts []event.Activity, res *dayResult) error {
	r, w := g.r, g.w
	cfg := &w.cfg
	rel := dataPath("activity", g.t0, formExt(cfg.ActivityForm), cfg.Gzip)
	f, err := createFile(filepath.Join(cfg.Dir, rel), cfg.Gzip)
	if err != nil {
		return err
	}
	out := &jsonRows{w: f, form: cfg.ActivityForm}
	res.act = newCounts()
	res.minutes = make([]minuteStat, minutesPerDay)
	cutLast := cfg.ActivityForm == FormArray && len(acts) > 0 && r.Float64() < cfg.Dirt.ActTruncatedFile
	choices := cfg.Dirt.actChoices(cfg.ActivityForm)
	var buf, idBuf []byte
	for i, key := range g.timeOrder(acts) {
		a := &acts[uint32(key)]
		a.EventID = numberedID(idBuf, 'a', g.date, i+1, 7)
		d := draw(r, choices)
		if cutLast && i == len(acts)-1 {
			d = defectMalformed
		}
		user := a.UserID
		switch d {
		case defectMissingUser:
			a.UserID = ""
		case defectBadType:
			a.Type = badActivityTypes[r.IntN(len(badActivityTypes))]
		}
		buf = appendActivity(buf[:0], a)
		if d == defectMalformed {
			// Cut inside the object: any proper prefix of an object is invalid JSON.
			buf = buf[:1+r.IntN(len(buf)-2)]
			out.cut = cutLast && i == len(acts)-1
		}
		out.write(buf)
		res.act.add(d, false, string(a.Type))
		if d == defectNone {
			g.countMinute(res.minutes, a, user)
		}
	}
	if err := out.close(); err != nil {
		f.abort()
		return fmt.Errorf("generate: write %s: %w", rel, err)
	}
	res.actFile = FileTruth{Path: filepath.ToSlash(rel), Rows: res.act.rows, Unparseable: sumReasons(res.act.unparseable)}
	return f.close()
}

// countMinute adds an accepted event to its minute. Events come in time order, so a per-user stamp
// of the last minute counted (numbered across days, so a worker's scratch from an earlier day never
// matches) makes the distinct-user count one comparison per event.
func (g *dayGen) countMinute(minutes []minuteStat, a *event.Activity, user string) {
	m := int(a.Time.Sub(g.t0) / time.Minute)
	ms := &minutes[m]
	ms.events[typeIndex(a.Type)]++
	u, _ := strconv.Atoi(user[1:]) // generated ids are "u" + number
	stamp := int32(g.d*minutesPerDay + m + 1)
	if g.lastMin[u] != stamp {
		g.lastMin[u] = stamp
		ms.active++
	}
}

package hours

import "testing"

func TestTable(t *testing.T) {
	a, err := New("Europe/Paris", [7][]Span{1: {{Open: 540, Close: 1080}}})
	if err != nil {
		t.Fatal(err)
	}
	b := a // equal, another address
	c, _ := New("Asia/Tokyo", [7][]Span{1: {{Open: 540, Close: 1080}}})
	var tb Table
	if tb.Tag(nil) != 0 || tb.Tag(&Schedule{}) != 0 {
		t.Error("unknown hours got a tag")
	}
	ta, tb2, tc, ta2 := tb.Tag(&a), tb.Tag(&b), tb.Tag(&c), tb.Tag(&a)
	if ta != 1 || tb2 != 1 || tc != 2 || ta2 != 1 || len(tb.Schedules) != 2 || !tb.Schedules[1].Equal(&c) || len(tb.byPtr) != 2 {
		t.Errorf("tags %d %d %d %d, table of %d", ta, tb2, tc, ta2, len(tb.Schedules))
	}
}

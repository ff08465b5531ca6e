package control_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgefront/edgefront/control"
)

const (
	one     = "EONE00000001"
	oneHost = "one.edgefront.test"
	two     = "ETWO00000002"
	twoHost = "two.edgefront.test"
)

func batch(ref string, paths ...string) *types.InvalidationBatch {
	return &types.InvalidationBatch{
		CallerReference: aws.String(ref),
		Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
	}
}

var invalidationID = regexp.MustCompile(`^I[A-Z0-9]{13}$`)

// TestInvalidationThroughProxy invalidates with the real client and checks
// through the proxy which objects go back to the origin.
func TestInvalidationThroughProxy(t *testing.T) {
	warm := []string{"/a.txt", "/b.txt", "/img/1.png", "/img/2.png", "/imgx.png", "/caf%C3%A9.txt"}
	tests := []struct {
		name  string
		paths []string
		miss  []string // objects of distribution one fetched again
	}{
		{"one file", []string{"/a.txt"}, []string{"/a.txt"}},
		{"directory wildcard", []string{"/img/*"}, []string{"/img/1.png", "/img/2.png"}},
		{"prefix wildcard", []string{"/img*"}, []string{"/img/1.png", "/img/2.png", "/imgx.png"}},
		{"everything", []string{"/*"}, warm},
		{"non-ASCII path given raw", []string{"/café.txt"}, []string{"/caf%C3%A9.txt"}},
		{"several paths", []string{"/a.txt", "/b.txt"}, []string{"/a.txt", "/b.txt"}},
		{"case-sensitive", []string{"/A.TXT"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "edge.yaml", control.Options{})
			for _, host := range []string{oneHost, twoHost} {
				for _, p := range warm {
					if x, _ := e.get(host, p); x != "Miss from cloudfront" {
						t.Fatalf("%s%s first request: X-Cache %q", host, p, x)
					}
					if x, _ := e.get(host, p); x != "Hit from cloudfront" {
						t.Fatalf("%s%s second request: X-Cache %q", host, p, x)
					}
				}
			}
			out, err := e.cf.CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{
				DistributionId: aws.String(one), InvalidationBatch: batch("ref-"+tc.name, tc.paths...),
			})
			if err != nil {
				t.Fatalf("CreateInvalidation: %v", err)
			}
			inv := out.Invalidation
			if !invalidationID.MatchString(*inv.Id) || *inv.Status != "InProgress" || inv.CreateTime == nil {
				t.Errorf("invalidation = %s %s %v, want I+13, InProgress, a time", *inv.Id, *inv.Status, inv.CreateTime)
			}
			if want := e.api.URL + "/2020-05-31/distribution/" + one + "/invalidation/" + *inv.Id; aws.ToString(out.Location) != want {
				t.Errorf("Location = %q, want %q", aws.ToString(out.Location), want)
			}
			if got := inv.InvalidationBatch.Paths.Items; strings.Join(got, ",") != strings.Join(tc.paths, ",") {
				t.Errorf("paths echoed = %v, want %v", got, tc.paths)
			}
			for _, p := range warm {
				want := "Hit from cloudfront"
				hits := 1
				for _, m := range tc.miss {
					if m == p {
						want, hits = "Miss from cloudfront", 2
					}
				}
				if x, _ := e.get(oneHost, p); x != want {
					t.Errorf("%s after the invalidation: X-Cache %q, want %q", p, x, want)
				}
				if x, _ := e.get(twoHost, p); x != "Hit from cloudfront" {
					t.Errorf("the other distribution's %s: X-Cache %q, want a hit", p, x)
				}
				// Both distributions share the origin: it saw one fetch per
				// distribution, plus the refetch.
				if got := e.origin.count(p); got != hits+1 {
					t.Errorf("origin fetches of %s = %d, want %d", p, got, hits+1)
				}
			}

			// The invalidation completes at once (InvalidationInProgress 0):
			// the waiter returns on its first poll.
			start := time.Now()
			w := cloudfront.NewInvalidationCompletedWaiter(e.cf)
			if err := w.Wait(ctx(t), &cloudfront.GetInvalidationInput{DistributionId: aws.String(one), Id: inv.Id}, 10*time.Second); err != nil {
				t.Fatalf("wait invalidation-completed: %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the waiter took %v", d)
			}
			got, err := e.cf.GetInvalidation(ctx(t), &cloudfront.GetInvalidationInput{DistributionId: aws.String(one), Id: inv.Id})
			if err != nil {
				t.Fatal(err)
			}
			if *got.Invalidation.Status != "Completed" || *got.Invalidation.InvalidationBatch.CallerReference != "ref-"+tc.name {
				t.Errorf("GetInvalidation = %s %s", *got.Invalidation.Status, *got.Invalidation.InvalidationBatch.CallerReference)
			}
		})
	}
}

func TestCreateInvalidationErrors(t *testing.T) {
	long := "/" + strings.Repeat("x", control.MaxPathLength)
	tests := []struct {
		name   string
		dist   string
		batch  *types.InvalidationBatch
		code   string
		status int
	}{
		{"unknown distribution", "ENOSUCHDIST01", batch("r", "/a"), "NoSuchDistribution", 404},
		{"no leading slash", one, batch("r", "a.txt"), "InvalidArgument", 400},
		{"wildcard inside", one, batch("r", "/a*/b"), "InvalidArgument", 400},
		{"two wildcards", one, batch("r", "/a**"), "InvalidArgument", 400},
		{"empty path", one, batch("r", ""), "InvalidArgument", 400},
		{"path too long", one, batch("r", long), "InvalidArgument", 400},
		{"no paths", one, batch("r"), "InvalidArgument", 400},
		{"no caller reference", one, batch("", "/a"), "InvalidArgument", 400},
		{"quantity mismatch", one, &types.InvalidationBatch{CallerReference: aws.String("r"),
			Paths: &types.Paths{Quantity: aws.Int32(2), Items: []string{"/a"}}}, "InconsistentQuantities", 400},
		{"batch too large", one, batch("r", manyPaths("/f", control.MaxPathsInProgress+1)...), "BatchTooLarge", 413},
	}
	e := newEnv(t, "edge.yaml", control.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.cf.CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{DistributionId: aws.String(tc.dist), InvalidationBatch: tc.batch})
			if code, status := apiCode(t, err); code != tc.code || status != tc.status {
				t.Errorf("error = %s %d (%v), want %s %d", code, status, err, tc.code, tc.status)
			}
		})
	}
	// Nothing was recorded.
	out, err := e.cf.ListInvalidations(ctx(t), &cloudfront.ListInvalidationsInput{DistributionId: aws.String(one)})
	if err != nil {
		t.Fatal(err)
	}
	if *out.InvalidationList.Quantity != 0 {
		t.Errorf("%d invalidations recorded after failed creates", *out.InvalidationList.Quantity)
	}
	_, err = e.cf.GetInvalidation(ctx(t), &cloudfront.GetInvalidationInput{DistributionId: aws.String(one), Id: aws.String("INOSUCHINVAL01")})
	if code, status := apiCode(t, err); code != "NoSuchInvalidation" || status != 404 {
		t.Errorf("GetInvalidation of an unknown ID: %s %d", code, status)
	}
	_, err = e.cf.ListInvalidations(ctx(t), &cloudfront.ListInvalidationsInput{DistributionId: aws.String("ENOSUCHDIST01")})
	if code, status := apiCode(t, err); code != "NoSuchDistribution" || status != 404 {
		t.Errorf("ListInvalidations of an unknown distribution: %s %d", code, status)
	}
}

func manyPaths(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func TestCallerReferenceIdempotency(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{})
	create := func(ref string, paths ...string) (*types.Invalidation, error) {
		out, err := e.cf.CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{DistributionId: aws.String(one), InvalidationBatch: batch(ref, paths...)})
		if err != nil {
			return nil, err
		}
		return out.Invalidation, nil
	}
	first, err := create("deploy-1", "/a.txt", "/b.txt")
	if err != nil {
		t.Fatal(err)
	}
	e.get(oneHost, "/a.txt") // cached after the ban
	again, err := create("deploy-1", "/b.txt", "/a.txt")
	if err != nil {
		t.Fatalf("same reference, same paths: %v", err)
	}
	if *again.Id != *first.Id {
		t.Errorf("same reference and paths made a new invalidation %s (first %s)", *again.Id, *first.Id)
	}
	if x, _ := e.get(oneHost, "/a.txt"); x != "Hit from cloudfront" {
		t.Errorf("a replayed batch invalidated again: X-Cache %q", x)
	}
	_, err = create("deploy-1", "/c.txt")
	if code, status := apiCode(t, err); code != "InvalidationBatchAlreadyExists" || status != 409 {
		t.Errorf("same reference, other paths: %s %d (%v)", code, status, err)
	}
	// The reference is per distribution.
	if _, err := e.cf.CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{DistributionId: aws.String(two), InvalidationBatch: batch("deploy-1", "/c.txt")}); err != nil {
		t.Errorf("the same reference on another distribution: %v", err)
	}
}

func TestInvalidationLimits(t *testing.T) {
	// Invalidations stay InProgress for an hour: the limits bite.
	e := newEnv(t, "edge.yaml", control.Options{InvalidationInProgress: time.Hour})
	create := func(dist, ref string, paths ...string) error {
		_, err := e.cf.CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{DistributionId: aws.String(dist), InvalidationBatch: batch(ref, paths...)})
		return err
	}
	if err := create(one, "w1", manyPaths("/w", 10)...); err != nil {
		t.Fatal(err)
	}
	wild := func(prefix string, n int) []string {
		out := manyPaths(prefix, n)
		for i := range out {
			out[i] += "*"
		}
		return out
	}
	if err := create(one, "wild-1", wild("/d", 10)...); err != nil {
		t.Fatal(err)
	}
	if err := create(one, "wild-2", wild("/e", 5)...); err != nil {
		t.Fatalf("15 wildcard paths in progress: %v", err)
	}
	err := create(one, "wild-3", "/f*")
	if code, status := apiCode(t, err); code != "TooManyInvalidationsInProgress" || status != 400 {
		t.Errorf("16th wildcard path: %s %d (%v)", code, status, err)
	}
	// Files are counted apart from wildcards: 10 in progress, 2,990 more fit.
	if err := create(one, "files-1", manyPaths("/g", control.MaxPathsInProgress-10)...); err != nil {
		t.Fatalf("3,000 files in progress: %v", err)
	}
	err = create(one, "files-2", "/h")
	if code, _ := apiCode(t, err); code != "TooManyInvalidationsInProgress" {
		t.Errorf("file 3,001: %s (%v)", code, err)
	}
	// Another distribution has its own limits.
	if err := create(two, "w1", "/f*"); err != nil {
		t.Errorf("another distribution: %v", err)
	}
	d, err := e.cf.GetDistribution(ctx(t), &cloudfront.GetDistributionInput{Id: aws.String(one)})
	if err != nil {
		t.Fatal(err)
	}
	if n := aws.ToInt32(d.Distribution.InProgressInvalidationBatches); n != 4 {
		t.Errorf("InProgressInvalidationBatches = %d, want 4", n)
	}
	l, err := e.cf.ListInvalidations(ctx(t), &cloudfront.ListInvalidationsInput{DistributionId: aws.String(one)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range l.InvalidationList.Items {
		if *s.Status != "InProgress" {
			t.Errorf("%s is %s, want InProgress", *s.Id, *s.Status)
		}
	}
}

func TestListInvalidationsPaging(t *testing.T) {
	e := newEnv(t, "edge.yaml", control.Options{})
	var ids []string
	for i := range 5 {
		out, err := e.cf.CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{DistributionId: aws.String(one), InvalidationBatch: batch(fmt.Sprint("ref", i), fmt.Sprintf("/p%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{*out.Invalidation.Id}, ids...) // newest first
	}
	var got []string
	var pages []int
	p := cloudfront.NewListInvalidationsPaginator(e.cf, &cloudfront.ListInvalidationsInput{DistributionId: aws.String(one), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		l := out.InvalidationList
		pages = append(pages, int(*l.Quantity))
		if *l.MaxItems != 2 || *l.IsTruncated != (l.NextMarker != nil) {
			t.Errorf("page: MaxItems %d IsTruncated %v NextMarker %v", *l.MaxItems, *l.IsTruncated, l.NextMarker)
		}
		for _, s := range l.Items {
			got = append(got, *s.Id)
			if *s.Status != "Completed" {
				t.Errorf("%s is %s, want Completed", *s.Id, *s.Status)
			}
		}
	}
	if fmt.Sprint(pages) != "[2 2 1]" || strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("pages %v of %v, want [2 2 1] of %v", pages, got, ids)
	}
}

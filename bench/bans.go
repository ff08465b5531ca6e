package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// The hit-after-bans scenario (edgefront only: the peers have no
// CloudFront API): 1 KiB hits before and after banBatches invalidations of
// banPaths distinct paths each, none of which names the object. The index
// of bans makes a hit's cost independent of their number; the target is
// after ≥ 0.95 × before.
const (
	banBatches = 100
	banPaths   = 1000
)

// bansResult is one before/after pair.
type bansResult struct {
	before, after loadResult
	bans          int
}

// bansPhase measures hits on edgefront, invalidates through its admin
// listener with the real AWS SDK CloudFront client, and measures again. It
// runs last, so that no other scenario is measured with the bans in place.
func (b *bench) bansPhase(ctx context.Context) error {
	t := b.edge
	if t == nil {
		return fmt.Errorf("hit-after-bans: edgefront is not among the targets")
	}
	spec := loadSpec{conns: b.o.conns, duration: b.o.duration, url: t.h1 + "/obj/1k"}
	measure := func(label string) (loadResult, error) {
		var live atomic.Int64
		useGo := b.o.goLoad || !b.tools["wrk"]
		b.prog.set(label, spec.duration, b.liveRate(t, useGo, &live))
		if useGo {
			return runGoLoad(ctx, spec, &live)
		}
		return runWrk(ctx, b.runDir, spec)
	}
	var r bansResult
	var err error
	if r.before, err = measure("hit-after-bans: before"); err != nil {
		return err
	}
	b.prog.set(fmt.Sprintf("hit-after-bans: %d invalidations of %d paths", banBatches, banPaths), 0, nil)
	if r.bans, err = invalidateMany(ctx, t.admin); err != nil {
		return fmt.Errorf("hit-after-bans: %w", err)
	}
	if r.after, err = measure("hit-after-bans: after"); err != nil {
		return err
	}
	b.bans = append(b.bans, r)
	b.prog.logf("%-28s %9.0f req/s before, %9.0f after %d invalidation paths (%.2f×)", "hit-after-bans edgefront",
		r.before.rps, r.after.rps, r.bans, r.after.rps/r.before.rps)
	return nil
}

// invalidateMany creates banBatches invalidations of banPaths paths each on
// the first distribution of the edge whose admin listener is admin, and
// returns how many paths it invalidated.
func invalidateMany(ctx context.Context, admin string) (int, error) {
	cf := cloudfront.New(cloudfront.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(admin),
		Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
	})
	list, err := cf.ListDistributions(ctx, &cloudfront.ListDistributionsInput{})
	if err != nil || list.DistributionList == nil || len(list.DistributionList.Items) == 0 {
		return 0, fmt.Errorf("list distributions: %v", err)
	}
	id := list.DistributionList.Items[0].Id
	n := 0
	for i := range banBatches {
		paths := make([]string, banPaths)
		for j := range paths {
			paths[j] = "/banned/" + strconv.Itoa(i) + "/" + strconv.Itoa(j) + ".jpg"
		}
		_, err := cf.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
			DistributionId: id,
			InvalidationBatch: &types.InvalidationBatch{
				CallerReference: aws.String("bench-" + strconv.Itoa(i)),
				Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
			},
		})
		if err != nil {
			return n, fmt.Errorf("invalidation %d: %w", i, err)
		}
		n += len(paths)
	}
	return n, nil
}

// bansReport is the hit-after-bans section of the report.
func (b *bench) bansReport() string {
	if len(b.bans) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("## Hits after invalidations (edgefront)\n\n")
	sb.WriteString("| invalidation paths | req/s before | req/s after | after ÷ before | p99 ms before | p99 ms after | target |\n|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range b.bans {
		ratio := r.after.rps / r.before.rps
		verdict := "**met**"
		if ratio < 0.95 {
			verdict = "**not met**"
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %.2f | %.2f | %.2f | ≥ 0.95: %s |\n", commas(float64(r.bans)), commas(r.before.rps), commas(r.after.rps), ratio,
			ms(r.before.p99), ms(r.after.p99), verdict)
	}
	sb.WriteString("\n")
	return sb.String()
}

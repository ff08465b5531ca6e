package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The invalidation bans are saved beside the objects (file "bans", JSON,
// written to a temporary file, synced and renamed) every time an
// invalidation is made, before Invalidate returns: an invalidation made
// before a restart holds after it, whatever the disk still has. With the
// bans is the latest end of retention of anything stored, so that a ban
// made soon after a restart lives as long as the objects already on disk.
//
// A bans file that cannot be read makes every object already on disk
// unservable (they are removed by the scan): an invalidation the node can
// no longer know of must not be missed.

const bansFile = "bans"

type savedBans struct {
	LatestUntil int64      `json:"latestUntil"`
	Bans        []savedBan `json:"bans"`
}

type savedBan struct {
	Distribution string `json:"distribution"`
	Pattern      string `json:"pattern"`
	At           int64  `json:"at"`
	Expires      int64  `json:"expires"`
}

// saveBans writes l's bans and latestUntil to dir; tmpPrefix starts the
// temporary file's name (the scan leaves the tier's own alone).
func saveBans(dir, tmpPrefix string, l *banList, latestUntil int64) error {
	out := savedBans{LatestUntil: latestUntil, Bans: []savedBan{}}
	if t := l.table.Load(); t != nil {
		for dist, d := range *t {
			d.each(func(p string, b ban) {
				out.Bans = append(out.Bans, savedBan{dist, p, b.at.UnixNano(), b.expires.UnixNano()})
			})
		}
	}
	data, err := json.Marshal(out)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "bans-"+tmpPrefix+"*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, bansFile))
}

// loadBans adds the bans saved in dir to l and returns the latest
// retention end saved with them. A missing file is no bans (an empty
// directory); ok is false when the file exists but cannot be used.
func loadBans(dir string, l *banList, now time.Time) (latestUntil int64, err error) {
	data, err := os.ReadFile(filepath.Join(dir, bansFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var in savedBans
	if err := json.Unmarshal(data, &in); err != nil {
		return 0, fmt.Errorf("%s: %w", filepath.Join(dir, bansFile), err)
	}
	for _, b := range in.Bans {
		if b.Pattern == "" {
			continue
		}
		l.add(b.Distribution, []string{b.Pattern}, time.Unix(0, b.At), time.Unix(0, b.Expires), now)
	}
	return in.LatestUntil, nil
}

package devices

import (
	"sync"
	"sync/atomic"
)

// Static is an in-memory registry with the same lookups as Registry, for
// tests and single-process demos. It does not validate what it is given,
// and a Device with an empty Status is stored as StatusActive.
// It is safe for concurrent use.
type Static struct {
	mu  sync.Mutex // serialises writers
	st  *state
	cur atomic.Pointer[view]
}

// NewStatic returns a Static holding devs.
func NewStatic(devs ...Device) *Static {
	s := &Static{st: newState()}
	for _, d := range devs {
		s.st.apply(DeviceRecord(normalize(d)))
	}
	s.cur.Store(s.st.snapshot())
	return s
}

func normalize(d Device) Device {
	if d.Status == "" {
		d.Status = StatusActive
	}
	return d
}

// PutDevice adds or replaces a device.
func (s *Static) PutDevice(d Device) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.apply(DeviceRecord(normalize(d)))
	s.cur.Store(s.st.snapshot())
}

// PutSite adds or replaces a site.
func (s *Static) PutSite(site Site) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.apply(SiteRecord(site))
	s.cur.Store(s.st.snapshot())
}

// Device behaves like Registry.Device.
func (s *Static) Device(id string) (Device, error) { return s.cur.Load().device(id) }

// Site behaves like Registry.Site.
func (s *Static) Site(id string) (Site, error) { return s.cur.Load().site(id) }

// Devices behaves like Registry.Devices.
func (s *Static) Devices() []Device { return s.cur.Load().deviceList() }

// Sites behaves like Registry.Sites.
func (s *Static) Sites() []Site { return s.cur.Load().siteList() }

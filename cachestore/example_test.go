package cachestore_test

import (
	"fmt"

	"github.com/shoal-cdn/shoal/cachestore"
)

// A fill reads the generation when it starts; a purge that lands while the origin answers
// makes Set refuse the stale response.
func ExampleMemory_Begin() {
	store, err := cachestore.NewMemory(cachestore.Config{MaxBytes: 64 << 20}, nil)
	if err != nil {
		panic(err)
	}
	defer store.Close()

	url := "https://www.example.com/app.css"
	obj := &cachestore.Object{Key: url, URL: url, Status: 200, Body: []byte("body{}"), Tags: cachestore.NewTags("css")}
	obj.Generation = store.Begin() // fill starts
	store.PurgeTag("css", false)   // a purge arrives while the origin is answering
	fmt.Println("stored:", store.Set(obj))

	obj = &cachestore.Object{Key: url, URL: url, Status: 200, Body: []byte("body{}"), Tags: cachestore.NewTags("css")}
	obj.Generation = store.Begin() // a fill that starts after the purge
	fmt.Println("stored:", store.Set(obj))
	// Output:
	// stored: false
	// stored: true
}

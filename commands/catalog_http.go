package commands

import (
	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// CatalogHTTP holds the Gin handlers of the artist and song writes.
type CatalogHTTP struct {
	cat  *Catalog
	wait httpapi.Waiter
}

// NewCatalogHTTP makes the handlers; wait is the projection runtime.
func NewCatalogHTTP(cat *Catalog, wait httpapi.Waiter) *CatalogHTTP {
	return &CatalogHTTP{cat: cat, wait: wait}
}

// catalogForm decodes a write's fields and validates its `file` image, if
// any, before the command runs: a bad file is a 400 and nothing is written.
func catalogForm(c *gin.Context) (*httpapi.Form, *Image, error) {
	f, err := httpapi.Fields(c)
	if err != nil {
		return nil, nil, err
	}
	img, err := ImageFromForm(f)
	if err != nil {
		return nil, nil, err
	}
	return f, img, nil
}

// optional reads a field as "not given" (nil) when absent or JSON null.
func optional(f *httpapi.Form, name string) *string {
	if v, ok := f.Get(name); ok {
		return &v
	}
	return nil
}

func artistFields(f *httpapi.Form) domain.ArtistFields {
	return domain.ArtistFields{Name: optional(f, "name"), Description: optional(f, "description"),
		AvatarURL: optional(f, "avatarurl"), Country: optional(f, "country")}
}

func songFields(f *httpapi.Form) domain.SongFields {
	return domain.SongFields{Title: optional(f, "title"), Description: optional(f, "description"),
		ThumbnailURL: optional(f, "thumbnailurl"), Duration: optional(f, "duration"),
		ReleaseDate: optional(f, "releasedate"), Genre: optional(f, "genre")}
}

// AddArtist serves POST /v1/artist.
func (h *CatalogHTTP) AddArtist(c *gin.Context) {
	f, img, err := catalogForm(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	view, w, err := h.cat.AddArtist(c.Request.Context(), httpapi.Principal(c), artistFields(f), img)
	answerData(c, h.wait, view, w, err)
}

// UpdateArtist serves POST /v1/artist/:id.
func (h *CatalogHTTP) UpdateArtist(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "artist")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	f, img, err := catalogForm(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	view, w, err := h.cat.UpdateArtist(c.Request.Context(), httpapi.Principal(c), id, artistFields(f), img)
	answerData(c, h.wait, view, w, err)
}

// DeleteArtist serves DELETE /v1/artist/:id.
func (h *CatalogHTTP) DeleteArtist(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "artist")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	w, err := h.cat.DeleteArtist(c.Request.Context(), httpapi.Principal(c), id)
	answerNoContent(c, h.wait, w, err)
}

// AddSong serves POST /v1/song.
func (h *CatalogHTTP) AddSong(c *gin.Context) {
	f, img, err := catalogForm(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	view, w, err := h.cat.AddSong(c.Request.Context(), httpapi.Principal(c), songFields(f), optional(f, "artists"), img)
	answerData(c, h.wait, view, w, err)
}

// UpdateSong serves POST /v1/song/:id.
func (h *CatalogHTTP) UpdateSong(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "song")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	f, img, err := catalogForm(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	view, w, err := h.cat.UpdateSong(c.Request.Context(), httpapi.Principal(c), id, songFields(f), img)
	answerData(c, h.wait, view, w, err)
}

// DeleteSong serves DELETE /v1/song/:id.
func (h *CatalogHTTP) DeleteSong(c *gin.Context) {
	id, err := domain.ParseID(c.Param("id"), "song")
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	w, err := h.cat.DeleteSong(c.Request.Context(), httpapi.Principal(c), id)
	answerNoContent(c, h.wait, w, err)
}

package commands

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/domain"
	"github.com/hustmusik/backend/infra/httpapi"
)

// CollectionReader reads a collection as GET /v1/collection/:id shows it
// (readapi implements it), so that a write answers with the same shape,
// owner name and songs included, once the read model has caught up.
type CollectionReader interface {
	CollectionView(ctx context.Context, id string, by domain.Principal) (any, error)
}

// CollectionsHTTP holds the Gin handlers of the collection writes.
type CollectionsHTTP struct {
	cmds *Collections
	wait httpapi.Waiter
	read CollectionReader
}

// NewCollectionsHTTP makes the handlers; wait is the projection runtime.
func NewCollectionsHTTP(cmds *Collections, wait httpapi.Waiter, read CollectionReader) *CollectionsHTTP {
	return &CollectionsHTTP{cmds: cmds, wait: wait, read: read}
}

// collectionFields reads the editable fields and validates the `file`
// image, if any, before anything is written.
func collectionFields(c *gin.Context) (domain.CollectionFields, *Image, error) {
	form, err := httpapi.Fields(c)
	if err != nil {
		return domain.CollectionFields{}, nil, err
	}
	img, err := ImageFromForm(form)
	if err != nil {
		return domain.CollectionFields{}, nil, err
	}
	var f domain.CollectionFields
	for name, dst := range map[string]**string{"title": &f.Title, "description": &f.Description,
		"thumbnailurl": &f.ThumbnailURL, "type": &f.Type, "visibility": &f.Visibility} {
		if v, ok := form.Get(name); ok {
			*dst = &v
		}
	}
	return f, img, nil
}

// answer waits for the read model, then answers {"data": collection}.
func (h *CollectionsHTTP) answer(c *gin.Context, state *domain.Collection, w Written) {
	httpapi.Written(c, h.wait, w.Position, w.Types)
	by := httpapi.Principal(c)
	view, err := h.read.CollectionView(c.Request.Context(), state.ID, by)
	if errors.Is(err, domain.ErrNotFound) {
		// The read model did not catch up within the consistency wait: answer
		// from the aggregate rather than deny a write that happened.
		view, err = fallbackView(state), nil
	}
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Data(c, view)
}

// fallbackView has the shape of GET /v1/collection/:id, built from the
// aggregate alone: it knows no owner name and no song details.
func fallbackView(s *domain.Collection) gin.H {
	return gin.H{"id": s.ID, "title": s.Title, "description": s.Description, "type": string(s.Type),
		"thumbnailurl": s.ThumbnailURL, "owner": gin.H{"id": s.OwnerID, "username": "", "avatarurl": ""},
		"songs": []gin.H{}}
}

func pathIDs(c *gin.Context, withSong bool) (id, songID string, err error) {
	if id, err = domain.ParseID(c.Param("id"), "collection"); err != nil {
		return "", "", err
	}
	if withSong {
		if songID, err = domain.ParseID(c.Param("songid"), "song"); err != nil {
			return "", "", err
		}
	}
	return id, songID, nil
}

// Create serves POST /v1/collection (JSON or multipart).
func (h *CollectionsHTTP) Create(c *gin.Context) {
	f, img, err := collectionFields(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	state, w, err := h.cmds.Create(c.Request.Context(), httpapi.Principal(c), f, img)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	h.answer(c, state, w)
}

// Update serves POST /v1/collection/:id.
func (h *CollectionsHTTP) Update(c *gin.Context) {
	id, _, err := pathIDs(c, false)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	f, img, err := collectionFields(c)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	state, w, err := h.cmds.Update(c.Request.Context(), httpapi.Principal(c), id, f, img)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	h.answer(c, state, w)
}

// Delete serves DELETE /v1/collection/:id: 200 with a message, as the
// frontend expects (the only delete that is not a 204).
func (h *CollectionsHTTP) Delete(c *gin.Context) {
	id, _, err := pathIDs(c, false)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	w, err := h.cmds.Delete(c.Request.Context(), httpapi.Principal(c), id)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Written(c, h.wait, w.Position, w.Types)
	c.JSON(http.StatusOK, gin.H{"message": "Collection " + id + " is being deleted"})
}

// AddSong serves POST /v1/collection/:id/songs/:songid.
func (h *CollectionsHTTP) AddSong(c *gin.Context) {
	id, songID, err := pathIDs(c, true)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	w, err := h.cmds.AddSong(c.Request.Context(), httpapi.Principal(c), id, songID)
	answerNoContent(c, h.wait, w, err)
}

// RemoveSong serves DELETE /v1/collection/:id/songs/:songid.
func (h *CollectionsHTTP) RemoveSong(c *gin.Context) {
	id, songID, err := pathIDs(c, true)
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	w, err := h.cmds.RemoveSong(c.Request.Context(), httpapi.Principal(c), id, songID)
	answerNoContent(c, h.wait, w, err)
}

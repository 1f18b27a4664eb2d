package commands

import (
	"github.com/gin-gonic/gin"

	"github.com/hustmusik/backend/infra/httpapi"
)

// Every write ends the same way: on error, the mapped error; on success,
// the wait for the read models that read what it wrote (X-Position), then
// the answer. These are the two answers most writes give.

// answerData answers {"data": view}.
func answerData(c *gin.Context, wait httpapi.Waiter, view any, w Written, err error) {
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Written(c, wait, w.Position, w.Types)
	httpapi.Data(c, view)
}

// answerNoContent answers 204.
func answerNoContent(c *gin.Context, wait httpapi.Waiter, w Written, err error) {
	if err != nil {
		httpapi.Error(c, err)
		return
	}
	httpapi.Written(c, wait, w.Position, w.Types)
	httpapi.NoContent(c)
}

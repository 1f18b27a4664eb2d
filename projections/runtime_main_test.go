package projections

import (
	"testing"

	"github.com/hustmusik/backend/infra/pgtest"
)

// TestMain is the package's only one (a second, in any test file of this
// directory, would not compile): every test here may use pgtest.
func TestMain(m *testing.M) { pgtest.Main(m) }

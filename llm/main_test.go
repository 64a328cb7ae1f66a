package llm

import (
	"testing"

	"github.com/sitebot/sitebot/internal/testenv"
)

func TestMain(m *testing.M) { testenv.VerifyNoLeaks(m) }

package llm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ollama/ollama/api"
)

// NewEmbedder returns a client for the embedding model on the Ollama server
// at base (nil: http://127.0.0.1:11434); see New for hc. Its Embed method
// has the shape of indexer.Embedder, and Check tells whether the model is
// pulled. It is New without generation options: an embedding model does
// not chat.
func NewEmbedder(base *url.URL, hc *http.Client, model string) *Client {
	return New(base, hc, model)
}

// Embed returns one embedding per text, in order, with the client's model
// (one /api/embed request). A model that is not pulled gives an error
// wrapping ErrModelMissing that names `ollama pull`; a server that does not
// answer, one wrapping ErrUnreachable.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	resp, err := c.api.Embed(ctx, &api.EmbedRequest{
		Model:     c.model,
		Input:     texts,
		KeepAlive: &api.Duration{Duration: c.keepAlive},
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("llm: embed with %q: %w", c.model, ctxErr)
		}
		return nil, c.mapError(err, "embed", "is it an embedding model?")
	}
	if len(resp.Embeddings) != len(texts) {
		return nil, fmt.Errorf("llm: embed with %q: got %d embeddings for %d texts", c.model, len(resp.Embeddings), len(texts))
	}
	dim := len(resp.Embeddings[0])
	for _, e := range resp.Embeddings {
		if len(e) == 0 || len(e) != dim {
			return nil, fmt.Errorf("llm: embed with %q: embeddings of unequal or zero length (%d, %d)", c.model, dim, len(e))
		}
	}
	return resp.Embeddings, nil
}

// SameModel reports whether a and b name the same Ollama model ("bge-m3"
// and "bge-m3:latest" do; names are case-insensitive).
func SameModel(a, b string) bool { return canonicalName(a) == canonicalName(b) }

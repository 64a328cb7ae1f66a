package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/llm"
	"github.com/sitebot/sitebot/profile"
)

// ProfileStore is what the admin profile API needs (*profile.Store): the
// profiles themselves, and a checkpoint that leaves no copy of deleted rows
// in the database's write-ahead log.
type ProfileStore interface {
	ProfileSource
	Put(ctx context.Context, customerID string, doc []byte) (created bool, err error)
	Get(ctx context.Context, customerID string) (doc []byte, ok bool, err error)
	Delete(ctx context.Context, customerID string) (ok bool, err error)
	Checkpoint(ctx context.Context) error
}

var _ ProfileStore = (*profile.Store)(nil)

// Eraser deletes what it holds about a customer, for the right to erasure
// (DELETE /api/admin/profiles/{id}): handoffs, for one. Erasers run first,
// while the customer's conversations still exist, then the conversations
// and the profile are deleted.
type Eraser interface {
	EraseCustomer(ctx context.Context, customerID string) error
}

// profileRoutes registers the admin profile API on the admin group.
func (s *Server) profileRoutes(admin *echo.Group) {
	admin.PUT("/profiles/:customer_id", s.handlePutProfile)
	admin.GET("/profiles/:customer_id", s.handleGetProfile)
	admin.DELETE("/profiles/:customer_id", s.handleDeleteProfile)
}

// profileStore returns the store, or the 501 the API answers without one.
func (s *Server) profileStore() (ProfileStore, error) {
	if s.cfg.ProfileStore == nil {
		return nil, echo.NewHTTPError(http.StatusNotImplemented, "customer profiles are not available on this server")
	}
	return s.cfg.ProfileStore, nil
}

// customerIDParam is the {customer_id} of the path, percent-decoded and
// validated (1 to 256 bytes, no control characters).
func customerIDParam(c echo.Context) (string, error) {
	id := c.Param("customer_id")
	if c.Request().URL.RawPath != "" { // echo routes on the raw path then: the param is still escaped
		var err error
		if id, err = url.PathUnescape(id); err != nil {
			return "", &InputError{Msg: "customer id is not a valid percent-encoded path segment"}
		}
	}
	if !profile.ValidID(id) {
		return "", &InputError{Msg: profile.ErrInvalidID.Error()}
	}
	return id, nil
}

// profileTarget is what every profile endpoint starts with: the store
// (501 without one) and the customer id of the path (400 when invalid).
func (s *Server) profileTarget(c echo.Context) (ProfileStore, string, error) {
	store, err := s.profileStore()
	if err != nil {
		return nil, "", err
	}
	id, err := customerIDParam(c)
	if err != nil {
		return nil, "", err
	}
	return store, id, nil
}

func (s *Server) handlePutProfile(c echo.Context) error {
	store, id, err := s.profileTarget(c)
	if err != nil {
		return err
	}
	var doc json.RawMessage
	if err := decodeJSON(c, &doc, `{"name": "Ada Lovelace", "email": "ada@example.com", "plan": "Business"}`); err != nil {
		return err
	}
	created, err := store.Put(c.Request().Context(), id, doc)
	switch {
	case errors.Is(err, profile.ErrNotObject), errors.Is(err, profile.ErrTooLarge), errors.Is(err, profile.ErrInvalidID):
		return &InputError{Msg: err.Error()}
	case err != nil:
		return fmt.Errorf("server: put profile: %w", err)
	}
	s.log.Info("customer profile stored", "customer", id, "created", created)
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return c.JSON(code, map[string]any{"customer_id": id, "created": created})
}

func (s *Server) handleGetProfile(c echo.Context) error {
	store, id, err := s.profileTarget(c)
	if err != nil {
		return err
	}
	doc, ok, err := store.Get(c.Request().Context(), id)
	if err != nil {
		return fmt.Errorf("server: get profile: %w", err)
	}
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no profile for this customer id")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONBlob(http.StatusOK, doc)
}

// handleDeleteProfile erases a customer: what the Erasers hold (handoffs),
// their conversations, their profile; then it checkpoints the database so
// that no copy stays in the write-ahead log (secure_delete has overwritten
// the rows in the file). It succeeds, and erases the conversations, even
// when there is no profile, so a failed erasure can simply be retried.
func (s *Server) handleDeleteProfile(c echo.Context) error {
	store, id, err := s.profileTarget(c)
	if err != nil {
		return err
	}
	ctx := context.WithoutCancel(c.Request().Context()) // an erasure, once started, finishes
	for _, e := range s.cfg.Erasers {
		if err := e.EraseCustomer(ctx, id); err != nil {
			return fmt.Errorf("server: erase customer: %w", err)
		}
	}
	convs := 0
	if s.conv != nil {
		if convs, err = s.conv.DeleteCustomer(ctx, id); err != nil {
			return fmt.Errorf("server: erase customer: %w", err)
		}
	}
	had, err := store.Delete(ctx, id)
	if err != nil {
		return fmt.Errorf("server: erase customer: %w", err)
	}
	if err := store.Checkpoint(ctx); err != nil {
		return fmt.Errorf("server: erase customer: %w", err)
	}
	s.log.Info("customer erased", "customer", id, "profile", had, "conversations", convs)
	return c.JSON(http.StatusOK, map[string]any{"customer_id": id, "profile_deleted": had, "conversations_deleted": convs})
}

// conversationFor is conversationID for a visitor who is customerID when
// verified: a conversation that belongs to a verified customer is
// continued only by that customer; anyone else who sends its id (a
// replayed or guessed id, a forged token) starts a new conversation and
// never sees its history.
func (s *Server) conversationFor(ctx context.Context, requested, customerID string, verified bool) (string, bool, error) {
	id, known, err := s.conversationID(ctx, requested)
	if err != nil || !known || s.conv == nil {
		return id, known, err
	}
	owner, err := s.conv.Customer(ctx, id)
	if err != nil {
		return "", false, fmt.Errorf("server: %w", err)
	}
	if owner != "" && (!verified || owner != customerID) {
		s.log.Info("conversation of another customer: starting a new one", "conversation", id, "customer_verified", verified)
		return conversation.NewID(), false, nil
	}
	return id, true, nil
}

// answerFromProfile answers a verified visitor's question about their own
// account ("which plan am I on?", "where is my last order?") from their
// profile when there is no model: the fields whose name (or a synonym of
// it) the question names. It reports whether it answered; anything else
// goes the usual way. profile is only ever the verified visitor's own.
func (s *Server) answerFromProfile(question string, fields []llm.ProfileField, resp *ChatResponse) bool {
	if s.model != nil || len(fields) == 0 {
		return false
	}
	matched := profileFieldsAsked(question, fields)
	if len(matched) == 0 {
		return false
	}
	lines := make([]string, len(matched))
	for i, f := range matched {
		lines[i] = strings.TrimSpace(f.Name) + ": " + strings.Join(strings.Fields(f.Value), " ")
	}
	resp.Mode = ModeExtractive
	resp.Answer = profileIntro[guessLang(question)] + " " + strings.Join(lines, "; ")
	return true
}

var profileIntro = map[string]string{
	"en": "From your customer profile —",
	"de": "Laut Ihrem Kundenprofil —",
	"fr": "D'après votre profil client —",
	"es": "Según su perfil de cliente —",
	"fi": "Asiakastietojesi mukaan —",
	"sv": "Enligt din kundprofil —",
	"lv": "Saskaņā ar jūsu klienta profilu —",
	"ru": "По данным вашего профиля —",
}

// Words of a personal question: the visitor speaks of themselves.
var personalWords = wordSet(`
	my mine am i me i'm im i've mein meine meinen meinem
	meiner meines ich mich mir mon ma mes je moi j'ai mi
	mis yo tengo minun mun minulla olen minä mä min mitt mina
	jag mans mana manu мой моя моё мое мои моего моей
	моих мне меня я`)

// Words of a how-to question, which the site's pages answer better than a
// profile field ("how do I change my plan?").
var howToWords = wordSet(`
	how change cancel upgrade downgrade update delete reset switch remove add wie
	ändern kündigen wechseln löschen comment changer annuler modifier supprimer cómo como cambiar
	cancelar eliminar miten kuinka vaihtaa peruuttaa muuttaa hur ändra avsluta как изменить
	отменить поменять удалить сменить`)

// fieldSynonyms are other words for the usual profile fields, by field name.
var fieldSynonyms = map[string][]string{
	"plan": {"plan", "plans", "subscription", "tier", "tarif", "tariff", "abo", "abonnement", "abonnemang",
		"suscripción", "suscripcion", "tarifa", "paketti", "liittymä", "план", "тариф", "подписка", "подписку", "подписки"},
	"orders": {"order", "orders", "purchase", "purchases", "delivery", "shipment", "parcel",
		"bestellung", "bestellungen", "lieferung", "commande", "commandes", "livraison", "colis",
		"pedido", "pedidos", "envío", "envio", "compra", "tilaus", "tilaukseni", "tilausta", "toimitus",
		"beställning", "beställningar", "pasūtījums", "заказ", "заказы", "заказа", "заказов", "доставка", "посылка"},
	"email":    {"email", "mail", "e-mail", "courriel", "correo", "sähköposti", "sähköpostiosoite", "почта", "почты", "e-pasts"},
	"name":     {"name", "called", "nom", "nombre", "llamo", "nimi", "nimeni", "namn", "heter", "heiße", "heisse", "vārds", "имя", "зовут"},
	"language": {"language", "sprache", "langue", "idioma", "kieli", "språk", "valoda", "язык"},
	"phone":    {"phone", "telephone", "mobile", "telefon", "téléphone", "teléfono", "puhelin", "puhelinnumero", "телефон"},
	"address":  {"address", "adresse", "dirección", "direccion", "osoite", "adress", "adrese", "адрес"},
}

// profileFieldsAsked returns the fields a personal question asks about (at
// most three), or none when it is not a personal question.
func profileFieldsAsked(question string, fields []llm.ProfileField) []llm.ProfileField {
	words := strings.Fields(normalize(question))
	personal := false
	for _, w := range words {
		if howToWords[w] {
			return nil
		}
		personal = personal || personalWords[w]
	}
	if !personal {
		return nil
	}
	var out []llm.ProfileField
	for _, f := range fields {
		if fieldAsked(f.Name, words) {
			out = append(out, f)
			if len(out) == 3 {
				break
			}
		}
	}
	return out
}

// fieldAsked reports whether the question's words name the field: a word
// of its name ("last_order" → last, order) or a synonym of a usual field,
// equal or one the prefix of the other ("order" ~ "orders").
func fieldAsked(name string, words []string) bool {
	var keys []string
	for _, k := range strings.Fields(normalize(strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(name))) {
		if len(k) >= 3 && !personalWords[k] {
			keys = append(keys, k)
		}
		for group, syn := range fieldSynonyms {
			if k == group || contains(syn, k) {
				keys = append(keys, syn...)
			}
		}
	}
	for _, w := range words {
		for _, k := range keys {
			if w == k || (len([]rune(w)) >= 4 && len([]rune(k)) >= 4 && (strings.HasPrefix(w, k) || strings.HasPrefix(k, w))) {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

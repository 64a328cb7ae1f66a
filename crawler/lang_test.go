package crawler

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDetectLang(t *testing.T) {
	tests := []struct{ want, text string }{
		{"en", "To reset your password, open the login page and click the link that says you forgot it. " +
			"We will send you an e-mail with a new link that stays valid for one hour after it was sent."},
		{"de", "Um Ihr Passwort zurückzusetzen, öffnen Sie die Anmeldeseite und klicken Sie auf den Link. " +
			"Wir schicken Ihnen dann eine E-Mail mit einem neuen Link, der eine Stunde lang gültig bleibt."},
		{"fr", "Pour réinitialiser votre mot de passe, ouvrez la page de connexion et cliquez sur le lien. " +
			"Nous vous enverrons un courriel avec un nouveau lien qui reste valable pendant une heure."},
		{"es", "Para restablecer su contraseña, abra la página de inicio de sesión y haga clic en el enlace. " +
			"Le enviaremos un correo electrónico con un nuevo enlace que será válido durante una hora."},
		{"fi", "Jos haluat vaihtaa salasanasi, avaa kirjautumissivu ja napsauta linkkiä, jossa lukee unohtunut salasana. " +
			"Lähetämme sinulle sähköpostin, jossa on uusi linkki, joka on voimassa tunnin ajan lähettämisen jälkeen."},
		{"ru", "Чтобы сбросить пароль, откройте страницу входа и нажмите на ссылку для восстановления доступа. " +
			"Мы отправим вам письмо с новой ссылкой, которая будет действительна в течение одного часа после отправки."},
		{"sv", "För att återställa ditt lösenord öppnar du inloggningssidan och klickar på länken om glömt lösenord. " +
			"Vi skickar dig ett e-postmeddelande med en ny länk som gäller i en timme efter att det har skickats."},
		{"", "Reset your password"},            // too short to tell
		{"", "Passwort zurücksetzen bitte"},    // too short to tell
		{"", strings.Repeat("1234 5678 ", 30)}, // no letters
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.want+"/"+firstWords(tt.text), func(t *testing.T) {
			assert.Equal(t, tt.want, DetectLang(tt.text))
		})
	}
}

func firstWords(s string) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(3, len(f))], " ")
}

func TestExtractLangs(t *testing.T) {
	ex := extractFile(t, "lang.html", nil)
	assert.Equal(t, "fi", ex.page.Lang, "<html lang> wins over the text")
	var got [][2]string
	for _, s := range ex.page.Sections {
		got = append(got, [2]string{s.Heading, s.Lang})
	}
	assert.Equal(t, [][2]string{
		{"", ""}, // text before the first heading, in the page's language
		{"Usein kysytyt kysymykset", ""},
		{"What does it cost?", "en"},
		{"Is it really free?", "en"},
		{"Paljonko se maksaa?", ""},
		{"Wie viel kostet es?", "de"},
	}, got)
	var faqs [][2]string
	for _, f := range ex.page.FAQs {
		faqs = append(faqs, [2]string{f.Question, f.Lang})
	}
	assert.Equal(t, [][2]string{
		{"Onko tuki ilmaista?", ""}, // a <details> in the page's language
		{"What does it cost?", "en"},
		{"Is it really free?", "en"},
		{"Paljonko se maksaa?", ""},
		{"Wie viel kostet es?", "de"},
	}, faqs, "FAQs take the language of their element or section")
}

func TestExtractLangFallbacks(t *testing.T) {
	const text = "<p>Um Ihr Passwort zurückzusetzen, öffnen Sie die Anmeldeseite und klicken Sie auf den Link. " +
		"Wir schicken Ihnen dann eine E-Mail mit einem neuen Link, der eine Stunde lang gültig bleibt.</p>"
	tests := []struct {
		name, html, contentLang, want string
	}{
		{"html lang", `<html lang="sv-SE"><body><main>` + text + `</main></body></html>`, "fr", "sv"},
		{"header", `<html><body><main>` + text + `</main></body></html>`, "fr-CA, en", "fr"},
		{"detected", `<html><body><main>` + text + `</main></body></html>`, "", "de"},
		{"too short", `<html><body><main><p>Passwort zurücksetzen</p></main></body></html>`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string][]string{}
			if tt.contentLang != "" {
				h["Content-Language"] = []string{tt.contentLang}
			}
			ex := extractString(t, tt.html, h)
			assert.Equal(t, tt.want, ex.page.Lang)
		})
	}
}

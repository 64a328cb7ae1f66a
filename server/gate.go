package server

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// intent is what the gate makes of a message before any retrieval.
type intent int

const (
	intentQuestion   intent = iota // retrieve and answer (or refuse)
	intentHandoff                  // the visitor asks for a person
	intentFrustrated               // the visitor is fed up with the bot: offer a person too
	intentGreeting
	intentThanks
	intentBye
	intentIdentity // "are you a bot?"
)

// Handoff reasons reported in ChatResponse.HandoffReason.
const (
	ReasonRequested  = "requested"
	ReasonFrustrated = "frustrated"
)

// normalize lower-cases s, turns every run of characters other than letters,
// digits and apostrophes into one space, and pads the result with spaces, so
// that patterns can use " word " as a Unicode-safe word boundary (RE2's \b
// is ASCII-only).
func normalize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
			space = false
		case r == '\'' || r == '’' || r == '‘' || r == '`':
			b.WriteByte('\'')
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// corrected is normalize's output with small typos in the English words the
// gate looks for fixed. It is tried in addition to the text as typed, since
// it can also "fix" a word of another language (Spanish "persona").
func corrected(n string) string {
	words := strings.Fields(n)
	for i, w := range words {
		words[i] = correct(w)
	}
	return " " + strings.Join(words, " ") + " "
}

// vocabulary holds the English words the gate's patterns rely on; correct
// maps a word within one typo (insertion, deletion, substitution or
// transposition) of one of them to it: "spport" → "support", "eprson" → "person".
var vocabulary = []string{
	"person", "people", "someone", "somebody", "anyone", "anybody", "customer", "support",
	"service", "assistance", "assistant", "operator", "agent", "human", "representative",
	"executive", "contact", "speak", "helpful", "useless", "pathetic", "supervisor", "manager",
	"talking", "speaking", "chatting", "contacting",
}

var vocabSet = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range vocabulary {
		m[w] = true
	}
	return m
}()

func correct(w string) string {
	if len(w) < 5 || vocabSet[w] || !isASCII(w) {
		return w
	}
	for _, v := range vocabulary {
		max := 1
		if len(v) >= 10 {
			max = 2
		}
		if abs(len(v)-len(w)) <= max && osaDistance(w, v) <= max {
			return v
		}
	}
	return w
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// osaDistance is the optimal string alignment distance (Levenshtein plus
// adjacent transpositions) of two ASCII strings.
func osaDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func res(patterns ...string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		out[i] = regexp.MustCompile(p)
	}
	return out
}

// Patterns run on normalize's output: lower case, single spaces, padded.
var (
	// userAgent is a browser's user agent, not a person (Plausible's docs talk about it).
	userAgent = regexp.MustCompile(` (user|browser) agents? | agents? utilisateurs? `)

	// contactVerb ... person: "talk to someone", "contact a live agent", "chat with an expert".
	contactVerb = `(talk\pL*|speak\pL*|chat\pL*|contact\pL*|reach\pL*|connect\pL*|touch|write|get hold of|put me through|transfer\pL*)`
	personNoun  = `(someone|somebody|anyone|anybody|person|human|humans|staff|employee|expert|specialist|executive|manager|supervisor|assistant|advisor|adviser|consultant|boss|operator|representative|rep|agent|you guys|support)`

	handoffPatterns = res(
		// English
		` humans? `,
		` (real|actual|live) (person|people|human|agent|someone|somebody|operator|representative|support) `,
		` live chat `,
		` agents? `,
		` representatives? `,
		` (an|a|live|human) operator `,
		` (to|with) (an |a |the )?(live |human )?operator `,
		` operator please `,
		` customer ?(service|services|support|assistance|care|success|team|rep|representative) `,
		` (support|service|help|sales) (team|staff|desk|people|agent|person|rep) `,
		` helpdesk `,
		` `+contactVerb+` (to |with |wth |w |me (to |with )?)?(a |an |the |your |some |one of your )?(real |live |actual )?`+personNoun+` `,
		` escalat\pL* `,
		` (talk|speak|chat|write|contact|reach)\pL* (to |with )?(your|the) (team|staff) `,
		// German
		` (mit|einen|einem|einer|an|zu|echten|menschlichen) (\pL+ )?mitarbeiter\pL* `,
		` mitarbeiter\pL* (sprechen|kontaktieren|reden|erreichen|bitte) `,
		` mensch `,
		` (mit|einem|einen|echten|richtigen) (\pL+ )?menschen `,
		` menschlich\pL* `,
		` (kundendienst|kundenservice|kundensupport|kundenbetreuung|ansprechpartner|berater)\pL* `,
		` mit jemand\pL* `,
		// French
		` (un|une|des|d'un|d'une|l') ?(vrai |vraie |être |etre )?(humain|humaine|conseill\pL*|opérat\pL*|operat\pL*|agent) `,
		` conseill(er|ère|ers|ere) `,
		` (parler|discuter|contacter|joindre|échanger|parle) (à |a |avec )?(quelqu'un|une personne|un humain|le support|le service client) `,
		` service (client|clients|clientèle|clientele) `,
		` (vraie|vrai) personne `,
		// Spanish
		` agente humano `,
		` (una|otra) persona `,
		` persona real `,
		` un humano `,
		` (hablar|habla|hable|comunicarme|contactar|contacto) con (alguien|un agente|un humano|una persona|un asesor|un operador|soporte) `,
		` (atención|atencion|servicio) al cliente `,
		// Finnish
		` ihmi(nen|sen|selle|seltä|sestä) `,
		` asiakaspalvel\pL* `,
		` (jonkun|henkilön|työntekijän|ihmisen|asiantuntijan) kanssa `,
		// Russian
		` оператор\pL* `,
		` (с |со )?(живым |реальным |настоящим )?человеком `,
		` живо\pL* (человек|оператор|сотрудник|консультант)\pL* `,
		` (нужен|позовите|позвать|дайте|хочу|соедините|переключите)\pL* (мне |меня )?(с )?(человек|сотрудник|консультант|менеджер)\pL* `,
		` служб\pL* поддержк\pL* `,
		` техподдержк\pL* `,
		` (связаться|поговорить|написать|обратиться) (с|в|к) (поддержк|сотрудник|менеджер|консультант|специалист)\pL* `,
		// Swedish
		` människa(n)? `,
		` handläggar\pL* `,
		` (kundtjänst|kundservice|kundsupport)\pL* `,
		` (prata|tala|chatta) med (någon|en person|en riktig person|personal|en handläggare) `,
		// Latvian
		` cilvēks `,
		` cilvēkam `,
		` ar (\pL+ )?cilvēku `,
		` (vajag|gribu|vēlos|lūdzu) (\pL+ )?cilvēk\pL* `,
		` (ar )?operator(u|am|iem) `,
		` (klientu apkalpošan|klientu atbalst)\pL* `,
		` (runāt|sazināties|parunāt) ar (kādu|darbinieku|speciālistu|konsultantu) `,
	)

	// latvianOperators is "operators" in Latvian; in English it is a plural
	// (Plausible's filter operators), so it needs Latvian letters around it.
	latvianOperators = regexp.MustCompile(` operators `)
	latvianLetters   = regexp.MustCompile(`[āčēģīķļņšūž]`)

	frustrationPatterns = res(
		` (useless|pathetic|worthless|unhelpful|rubbish) `,
		` (not|\pL*n't|arent|uarent|isnt|aint) (very |really |so |being |at all |of any )?(helpful|helping|useful) `,
		` (you|this|it) (suck|sucks|stinks) `,
		` waste of (my )?time `,
		` (stupid|dumb|useless) (bot|robot|machine|chatbot|thing|ai) `,
		` (don't|do not|dont|doesn't|does not) understand (me|you|ya|what i) `,
		` (nutzlos|unnütz|hilft nicht|bringt nichts) `,
		` (inutile|sert à rien) `,
		` (inútil|inutil|no sirve) `,
		` (hyödytön|ei auta) `,
		` (бесполезн\pL*|не помогает|толку нет) `,
		` (värdelös|hjälper inte|meningslös) `,
		` (bezjēdzīg\pL*|nepalīdz) `,
	)

	identityPattern = regexp.MustCompile(`^ ((are|r) (you|u)|is this|am i (talking|speaking|chatting) (to|with)) (a |an )?(real |actual )?(bot|robot|ai|human|person|machine|computer|chatbot|real person|live person|people|program)( or (a |an )?(real )?\pL+)? $` +
		`|^ (who|what) are (you|u) $` +
		`|^ bist du (ein |eine )?(bot|roboter|mensch|ki|maschine) $` +
		`|^ (es tu|êtes vous|etes vous|tu es) (un |une )?(robot|bot|humain|ia|machine) $` +
		`|^ (eres|es usted) (un |una )?(bot|robot|humano|ia|máquina|persona real) $` +
		`|^ oletko (botti|robotti|ihminen|tekoäly|kone) $` +
		`|^ (ты|вы) (бот|робот|человек|ии|машина) $` +
		`|^ är du (en )?(bot|robot|människa|ai|maskin) $` +
		`|^ (vai )?(tu esi|jūs esat) (bots|robots|cilvēks|mi) $`)

	greetingPattern = regexp.MustCompile(`^ (hi|hello|hey|hiya|howdy|yo|greetings|good (morning|afternoon|evening|day)|hallo|moin|servus|guten (tag|morgen|abend)|bonjour|bonsoir|salut|coucou|hola|buenos días|buenos dias|buenas|buenas tardes|buenas noches|hei|moi|terve|moikka|hej|hejsan|tjena|god (morgon|dag|kväll)|sveiki|labdien|čau|привет|здравствуйте|добрый (день|вечер)|доброе утро)( there| all| everyone| team| bot| sitebot| again)*( how are (you|u))? $`)
	thanksPattern   = regexp.MustCompile(`^ ((ok|okay|great|perfect|super|cool|awesome|nice|alright) )?(thanks|thank you|thank u|thx|ty|cheers|many thanks|danke|danke schön|danke sehr|vielen dank|merci|merci beaucoup|gracias|muchas gracias|kiitos|paljon kiitoksia|спасибо|спасибо большое|благодарю|tack|tack så mycket|paldies|liels paldies)( for (your|the) help| again| a lot| so much| very much)?( bye)? $`)
	byePattern      = regexp.MustCompile(`^ (bye|goodbye|good bye|bye bye|see you|see ya|ciao|tschüss|tschüs|auf wiedersehen|au revoir|adiós|adios|hasta luego|näkemiin|heippa|до свидания|пока|hej då|hejdå|uz redzēšanos|atā)( now| then| for now)? $`)

	affirmativePattern = regexp.MustCompile(`^ (yes|yeah|yep|yup|sure|ok|okay|please|yes please|please do|do it|connect me|ja|jawohl|gerne|ja bitte|bitte|oui|d'accord|oui merci|sí|si|claro|vale|kyllä|joo|juu|да|давайте|конечно|ja tack|jā|labi|lūdzu)( please| bitte| por favor| s'il vous plaît| пожалуйста| lūdzu| kiitos| tack| thanks| thank you)? $`)
)

// classify decides what kind of message text is. offered says whether the
// bot's previous turn offered to connect the visitor with a person, so that
// a plain "yes" accepts it.
func classify(text string, offered bool) intent {
	n := normalize(text)
	if offered && affirmativePattern.MatchString(n) {
		return intentHandoff
	}
	if identityPattern.MatchString(n) {
		return intentIdentity
	}
	typed := userAgent.ReplaceAllString(n, " useragent ")
	fixed := userAgent.ReplaceAllString(corrected(n), " useragent ")
	if anyMatch(handoffPatterns, typed, fixed) ||
		latvianOperators.MatchString(typed) && latvianLetters.MatchString(typed) {
		return intentHandoff
	}
	if anyMatch(frustrationPatterns, typed, fixed) {
		return intentFrustrated
	}
	switch {
	case greetingPattern.MatchString(n):
		return intentGreeting
	case thanksPattern.MatchString(n):
		return intentThanks
	case byePattern.MatchString(n):
		return intentBye
	}
	return intentQuestion
}

func anyMatch(patterns []*regexp.Regexp, texts ...string) bool {
	for _, re := range patterns {
		for _, t := range texts {
			if re.MatchString(t) {
				return true
			}
		}
	}
	return false
}

// langWords are frequent short words that tell the languages the canned
// replies exist in apart.
var langWords = map[string][]string{
	"en": {"the", "is", "are", "how", "what", "i", "you", "to", "my", "can", "do", "a", "and", "of", "hi", "hello", "thanks", "bye", "with", "please", "want", "yes"},
	"de": {"ich", "wie", "ist", "der", "die", "das", "und", "nicht", "mit", "ein", "eine", "kann", "hallo", "danke", "sie", "du", "bitte", "einem", "möchte", "ja", "mein"},
	"fr": {"je", "le", "la", "les", "est", "comment", "un", "une", "pour", "avec", "bonjour", "merci", "vous", "tu", "de", "des", "et", "parler", "oui", "mon", "à"},
	"es": {"el", "la", "los", "es", "cómo", "como", "qué", "que", "un", "una", "para", "con", "hola", "gracias", "quiero", "mi", "y", "hablar", "sí", "puedo", "por"},
	"fi": {"on", "ja", "en", "miten", "mitä", "kuinka", "voin", "minä", "hei", "moi", "kiitos", "haluan", "ei", "onko", "mikä", "minun", "kanssa", "voiko", "kyllä"},
	"sv": {"jag", "är", "hur", "vad", "och", "det", "en", "ett", "med", "hej", "tack", "inte", "kan", "min", "vill", "till", "för", "prata", "ja"},
	"lv": {"es", "ir", "kā", "ko", "un", "ar", "vai", "sveiki", "paldies", "nav", "man", "jūs", "kur", "lūdzu", "gribu", "vēlos", "runāt"},
	"ru": {},
}

// langHints are letters that only some of those languages use.
var langHints = map[string]string{
	"de": "ßü",
	"fr": "çèêëîïôœùû",
	"es": "ñ¿¡",
	"sv": "å",
	"lv": "āčēģīķļņšūž",
}

// guessLang returns the language (en, de, fr, es, fi, sv, lv, ru) whose
// canned replies suit text best; "en" when nothing points elsewhere.
func guessLang(text string) string {
	lower := strings.ToLower(text)
	var cyr, letters int
	for _, r := range lower {
		if unicode.IsLetter(r) {
			letters++
			if unicode.Is(unicode.Cyrillic, r) {
				cyr++
			}
		}
	}
	if letters > 0 && cyr*2 >= letters {
		return "ru"
	}
	score := map[string]int{}
	for lang, hints := range langHints {
		for _, r := range hints {
			if strings.ContainsRune(lower, r) {
				score[lang] += 2
			}
		}
	}
	words := strings.Fields(normalize(text))
	for lang, list := range langWords {
		for _, w := range words {
			for _, lw := range list {
				if w == lw {
					score[lang]++
				}
			}
		}
	}
	best, bestScore := "en", score["en"]
	for _, lang := range []string{"de", "fr", "es", "fi", "sv", "lv"} {
		if score[lang] > bestScore {
			best, bestScore = lang, score[lang]
		}
	}
	return best
}

// replies are the answers that need no retrieval, per language.
type replies struct {
	handoff, frustrated, refusal, greeting, thanks, bye, identity string
	// repeated hands off after refusals in a row (ReasonRepeatedFailure);
	// contact, a format with one %s for the contact page's URL, follows a
	// refusal when the site has one.
	repeated, contact string
	// afterHours, a format with one %s for the next opening (see
	// nextOpening), says that the team is away (Config.BusinessHours);
	// askContact asks for the visitor's e-mail address; weekdays name the
	// days (Sunday first) as afterHours uses them.
	afterHours, askContact string
	weekdays               [7]string
}

var canned = map[string]replies{
	"en": {
		handoff:    "Of course. I'm handing this conversation to a person on our team, who will reply as soon as they can. You can also reach us through the contact page of this site.",
		frustrated: "I'm sorry I couldn't help. I'm handing this conversation to a person on our team, who will reply as soon as they can.",
		refusal:    "I couldn't find this on our site. Would you like me to connect you with a person?",
		greeting:   "Hello! Ask me anything about this site, or ask for a person at any time.",
		thanks:     "You're welcome! Anything else I can help with?",
		bye:        "Goodbye, and thanks for stopping by!",
		identity:   "I'm an AI assistant that answers from the pages of this site. If you'd rather talk to a person, just say so at any time.",
		repeated:   "I'm sorry, I couldn't find this on our site either. I'm handing this conversation to a person on our team, who will reply as soon as they can.",
		contact:    "You can also reach us through our contact page: %s",
		afterHours: "Our team is away right now; you can expect a reply from %s.",
		askContact: "Please leave your e-mail address below so that we can get back to you.",
		weekdays:   [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	},
	"de": {
		handoff:    "Gerne. Ich übergebe dieses Gespräch an einen Mitarbeiter unseres Teams, der sich so bald wie möglich meldet. Sie erreichen uns auch über die Kontaktseite dieser Website.",
		frustrated: "Es tut mir leid, dass ich nicht helfen konnte. Ich übergebe dieses Gespräch an einen Mitarbeiter unseres Teams, der sich so bald wie möglich meldet.",
		refusal:    "Dazu habe ich auf unserer Website nichts gefunden. Möchten Sie, dass ich Sie mit einem Mitarbeiter verbinde?",
		greeting:   "Hallo! Fragen Sie mich alles zu dieser Website – oder jederzeit nach einem Menschen.",
		thanks:     "Gern geschehen! Kann ich sonst noch helfen?",
		bye:        "Auf Wiedersehen und danke für Ihren Besuch!",
		identity:   "Ich bin ein KI-Assistent und antworte anhand der Seiten dieser Website. Wenn Sie lieber mit einem Menschen sprechen möchten, sagen Sie es einfach.",
		repeated:   "Es tut mir leid, auch dazu habe ich auf unserer Website nichts gefunden. Ich übergebe dieses Gespräch an einen Mitarbeiter unseres Teams, der sich so bald wie möglich meldet.",
		contact:    "Sie erreichen uns auch über unsere Kontaktseite: %s",
		afterHours: "Unser Team ist gerade nicht erreichbar; mit einer Antwort können Sie ab %s rechnen.",
		askContact: "Bitte hinterlassen Sie unten Ihre E-Mail-Adresse, damit wir Ihnen antworten können.",
		weekdays:   [7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
	},
	"fr": {
		handoff:    "Bien sûr. Je transmets cette conversation à un membre de notre équipe, qui vous répondra dès que possible. Vous pouvez aussi nous joindre via la page de contact de ce site.",
		frustrated: "Je suis désolé de ne pas avoir pu vous aider. Je transmets cette conversation à un membre de notre équipe, qui vous répondra dès que possible.",
		refusal:    "Je n'ai pas trouvé cette information sur notre site. Voulez-vous que je vous mette en relation avec un conseiller ?",
		greeting:   "Bonjour ! Posez-moi vos questions sur ce site, ou demandez à parler à un conseiller à tout moment.",
		thanks:     "Avec plaisir ! Puis-je vous aider pour autre chose ?",
		bye:        "Au revoir et merci de votre visite !",
		identity:   "Je suis un assistant IA qui répond à partir des pages de ce site. Si vous préférez parler à un humain, dites-le simplement.",
		repeated:   "Je suis désolé, je n'ai pas trouvé cela non plus sur notre site. Je transmets cette conversation à un membre de notre équipe, qui vous répondra dès que possible.",
		contact:    "Vous pouvez aussi nous joindre via notre page de contact : %s",
		afterHours: "Notre équipe est absente pour le moment ; vous pouvez attendre une réponse à partir de %s.",
		askContact: "Laissez-nous votre adresse e-mail ci-dessous pour que nous puissions vous répondre.",
		weekdays:   [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
	},
	"es": {
		handoff:    "Por supuesto. Paso esta conversación a una persona de nuestro equipo, que le responderá lo antes posible. También puede contactarnos a través de la página de contacto de este sitio.",
		frustrated: "Siento no haber podido ayudarle. Paso esta conversación a una persona de nuestro equipo, que le responderá lo antes posible.",
		refusal:    "No he encontrado esto en nuestro sitio. ¿Quiere que le ponga en contacto con una persona?",
		greeting:   "¡Hola! Pregúnteme lo que quiera sobre este sitio, o pida hablar con una persona en cualquier momento.",
		thanks:     "¡De nada! ¿Puedo ayudarle en algo más?",
		bye:        "¡Adiós y gracias por su visita!",
		identity:   "Soy un asistente de IA que responde a partir de las páginas de este sitio. Si prefiere hablar con una persona, solo dígalo.",
		repeated:   "Lo siento, tampoco he encontrado esto en nuestro sitio. Paso esta conversación a una persona de nuestro equipo, que le responderá lo antes posible.",
		contact:    "También puede contactarnos a través de nuestra página de contacto: %s",
		afterHours: "Nuestro equipo no está disponible en este momento; puede esperar una respuesta a partir del %s.",
		askContact: "Déjenos su dirección de correo electrónico abajo para que podamos responderle.",
		weekdays:   [7]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
	},
	"fi": {
		handoff:    "Selvä. Siirrän keskustelun tiimimme ihmiselle, joka vastaa sinulle mahdollisimman pian. Voit myös ottaa yhteyttä sivuston yhteystietosivun kautta.",
		frustrated: "Olen pahoillani, etten pystynyt auttamaan. Siirrän keskustelun tiimimme ihmiselle, joka vastaa sinulle mahdollisimman pian.",
		refusal:    "En löytänyt tätä sivustoltamme. Haluatko puhua asiakaspalvelumme ihmisen kanssa?",
		greeting:   "Hei! Kysy minulta mitä tahansa tästä sivustosta, tai pyydä ihmistä milloin tahansa.",
		thanks:     "Ole hyvä! Voinko auttaa vielä jossakin?",
		bye:        "Näkemiin ja kiitos käynnistä!",
		identity:   "Olen tekoälyavustaja ja vastaan tämän sivuston sivujen perusteella. Jos haluat mieluummin puhua ihmisen kanssa, sano vain.",
		repeated:   "Valitettavasti en löytänyt tätäkään sivustoltamme. Siirrän keskustelun tiimimme ihmiselle, joka vastaa sinulle mahdollisimman pian.",
		contact:    "Voit myös ottaa yhteyttä yhteystietosivumme kautta: %s",
		afterHours: "Tiimimme ei ole juuri nyt paikalla; voit odottaa vastausta aikaisintaan %s.",
		askContact: "Jätä sähköpostiosoitteesi alle, niin palaamme asiaan.",
		weekdays:   [7]string{"sunnuntaina", "maanantaina", "tiistaina", "keskiviikkona", "torstaina", "perjantaina", "lauantaina"},
	},
	"ru": {
		handoff:    "Конечно. Я передаю этот разговор сотруднику нашей команды, он ответит вам как можно скорее. Также с нами можно связаться через страницу контактов на сайте.",
		frustrated: "Извините, что не смог помочь. Я передаю этот разговор сотруднику нашей команды, он ответит вам как можно скорее.",
		refusal:    "Я не нашёл этого на нашем сайте. Хотите, я соединю вас с сотрудником?",
		greeting:   "Здравствуйте! Спросите меня о чём угодно по этому сайту или в любой момент попросите соединить вас с человеком.",
		thanks:     "Пожалуйста! Могу ли я ещё чем-нибудь помочь?",
		bye:        "До свидания, спасибо, что заглянули!",
		identity:   "Я ИИ-ассистент и отвечаю по страницам этого сайта. Если хотите поговорить с человеком, просто скажите.",
		repeated:   "К сожалению, этого я тоже не нашёл на нашем сайте. Я передаю этот разговор сотруднику нашей команды, он ответит вам как можно скорее.",
		contact:    "Также с нами можно связаться через страницу контактов: %s",
		afterHours: "Сейчас наша команда не на связи. Ответ можно ожидать: %s.",
		askContact: "Пожалуйста, оставьте ниже свой адрес электронной почты, чтобы мы могли вам ответить.",
		weekdays:   [7]string{"воскресенье", "понедельник", "вторник", "среда", "четверг", "пятница", "суббота"},
	},
	"sv": {
		handoff:    "Självklart. Jag lämnar över samtalet till en person i vårt team, som svarar så snart som möjligt. Du kan också nå oss via webbplatsens kontaktsida.",
		frustrated: "Jag är ledsen att jag inte kunde hjälpa till. Jag lämnar över samtalet till en person i vårt team, som svarar så snart som möjligt.",
		refusal:    "Jag hittade inte det här på vår webbplats. Vill du att jag kopplar dig till en person?",
		greeting:   "Hej! Fråga mig vad som helst om den här webbplatsen, eller be om en människa när som helst.",
		thanks:     "Varsågod! Kan jag hjälpa till med något mer?",
		bye:        "Hej då och tack för besöket!",
		identity:   "Jag är en AI-assistent som svarar utifrån sidorna på den här webbplatsen. Om du hellre vill prata med en människa är det bara att säga till.",
		repeated:   "Tyvärr hittade jag inte heller det här på vår webbplats. Jag lämnar över samtalet till en person i vårt team, som svarar så snart som möjligt.",
		contact:    "Du kan också nå oss via vår kontaktsida: %s",
		afterHours: "Vårt team är inte på plats just nu; du kan räkna med ett svar från %s.",
		askContact: "Lämna din e-postadress nedan så att vi kan återkomma till dig.",
		weekdays:   [7]string{"söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"},
	},
	"lv": {
		handoff:    "Protams. Es nododu šo sarunu mūsu komandas darbiniekam, kurš jums atbildēs, cik drīz vien iespējams. Ar mums var sazināties arī, izmantojot vietnes kontaktu lapu.",
		frustrated: "Atvainojiet, ka nespēju palīdzēt. Es nododu šo sarunu mūsu komandas darbiniekam, kurš jums atbildēs, cik drīz vien iespējams.",
		refusal:    "Mūsu vietnē to neatradu. Vai vēlaties, lai es jūs savienoju ar cilvēku?",
		greeting:   "Sveiki! Jautājiet man jebko par šo vietni vai jebkurā brīdī lūdziet sazināties ar cilvēku.",
		thanks:     "Lūdzu! Vai varu vēl kā palīdzēt?",
		bye:        "Uz redzēšanos, paldies par apmeklējumu!",
		identity:   "Esmu MI asistents, kas atbild, balstoties uz šīs vietnes lapām. Ja vēlaties runāt ar cilvēku, vienkārši pasakiet.",
		repeated:   "Atvainojiet, arī to mūsu vietnē neatradu. Es nododu šo sarunu mūsu komandas darbiniekam, kurš jums atbildēs, cik drīz vien iespējams.",
		contact:    "Ar mums var sazināties arī, izmantojot mūsu kontaktu lapu: %s",
		afterHours: "Mūsu komanda šobrīd nav pieejama. Atbildi varat gaidīt: %s.",
		askContact: "Lūdzu, atstājiet zemāk savu e-pasta adresi, lai mēs varētu jums atbildēt.",
		weekdays:   [7]string{"svētdiena", "pirmdiena", "otrdiena", "trešdiena", "ceturtdiena", "piektdiena", "sestdiena"},
	},
}

func repliesFor(text string) replies { return canned[guessLang(text)] }

// isRefusal reports whether an assistant turn is one of the refusals, which
// offer a person (possibly followed by the contact page's link).
func isRefusal(content string) bool {
	for _, r := range canned {
		if content == r.refusal || strings.HasPrefix(content, r.refusal+" ") {
			return true
		}
	}
	return false
}

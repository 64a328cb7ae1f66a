package indexer

import "strings"

// Short stop lists: function words that say nothing about what a question is
// about. They are written with their accents and folded like any term.
var stopLists = map[string]string{
	"en": `a about above after again against all am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during
each few for from further had hadn't has hasn't have haven't having he her here hers herself him himself his
how i i'm i've i'd i'll if in into is isn't it it's its itself let's me more most my myself no nor not of off on
once only or other ought our ours ourselves out over own same she should shouldn't so some such than that
that's the their theirs them themselves then there there's these they this those through to too under until
up very was wasn't we were weren't what what's when where which while who whom why with won't would wouldn't
you you're your yours yourself yourselves will shall may might must also just get got getting please want
wanna need needs like hi hello hey thanks thank ok okay yes still anyone someone something way`,
	"de": `aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes auch auf
aus bei bis bist da damit dann das dass dein deine dem den der des dessen dich die dies diese diesem diesen
dieser dieses dir doch dort du durch ein eine einem einen einer eines er es etwas euch euer eure für gegen
gewesen hab habe haben hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre im in indem ins ist jede
jedem jeden jeder jedes kann kein keine können könnte machen man manche mein meine mich mir mit muss musste
nach nicht nichts noch nun nur ob oder ohne sehr sein seine sich sie sind so solche soll sollte sondern um und
uns unser unter viel vom von vor waren warum was weil welche wenn wer werde werden wie wieder will wir
wird wo wollen zu zum zur über`,
	"fr": `au aux avec ce ces cet cette dans de des du elle elles en est et eux il ils je la le les leur leurs lui
ma mais me mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses sur ta te tes toi
tu un une vos votre vous y été être avoir ai as avons avez ont suis es sommes êtes sont comment quoi quel
quelle quels quelles pourquoi quand`,
	"es": `a al algo algunos ante antes como con contra cual cuando de del desde donde el ella ellas ellos en
entre es esa esas ese eso esos esta estas este esto estos está están fue ha hay la las le les lo los me mi
mis muy más mí no nos o os otra otro para pero por porque qué que quien se ser si sobre su sus también
te tu tus tú un una uno unos y ya yo cómo dónde cuándo puedo`,
	"fi": `ja on ei se että en et ole olen oli ovat mutta kun jos niin kuin myös tai sekä vai minä sinä hän me te
he minun sinun hänen meidän teidän heidän mikä mitä miksi miten missä mistä mihin kuka ketkä joka jotka tämä
tuo nämä nuo sen sitä siitä siihen tämän tätä kanssa voi voin voiko pitää pitäisi onko eikö olla`,
	"ru": `и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее её мне было
вот от меня еще ещё нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять
уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто
чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом один почти мой тем
чтобы нее сейчас были куда зачем всех никогда можно при наконец два об другой хоть после над больше тот через
эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя
такой им более всегда конечно всю между это ли как почему`,
	"sv": `och det att i en jag hon som han på den med sig för så till är men ett om hade de av icke mig du
henne då nu har inte hans honom skulle hennes där man ej kunde något från ut när efter upp vi dem
vara vad över än kan sina här ha alla under någon eller allt mycket sedan ju denna själv detta åt utan
varit hur ingen mitt ni bli blev oss din dessa några deras blir mina samma vilken er sådan vår blivit dess inom
mellan sådant varför varje vilka ditt vem vilket sådana vart dina vars vårt våra ert vilkas`,
}

// A few words that are stop words in one language but content in another
// ("war", "son", "min", "var", "dos") are left out on purpose.

// stopWords holds the folded stop words of every list (apostrophes kept), merged: questions are
// short and their language is often unknown, and a word that is a function
// word in one of these languages is rarely the subject of a support question
// in another.
var stopWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, list := range stopLists {
		for _, w := range strings.Fields(list) {
			for _, t := range Tokens(w) {
				m[fold(elide(t))] = true
			}
		}
	}
	return m
}()

// IsStopWord reports whether word is a stop word in any language: word as
// Tokens returns it (apostrophes kept: "don't", "i'd"; "id" is no stop word),
// accents and case ignored.
func IsStopWord(word string) bool {
	return stopWords[fold(elide(strings.ReplaceAll(strings.ToLower(word), "’", "'")))]
}

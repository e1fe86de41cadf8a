"""Tell a text that reads like a feature request, a documentation report, a how-to question or a chore from an incident.

`/diagnose` is for something broken now. Texts that ask for a change ("it would be great to have ...", "add a retry
button", "expose the metrics on /metrics"), report documentation ("broken link in the docs") or ask how to do
something ("how do I configure the pool size?") should not start a diagnosis, even when they use incident words.
The rules are phrase cues, in three strengths:

- urgency ("right now", "prod is down", "outage", "sev1") always means an incident;
- a request or documentation cue means not an incident, unless the text is urgent; an imperative title or a request
  word that also names things ("Report generation fails", "the Proposal service") only when its sentence reports
  no failure;
- a question, a wish for other behaviour, a chore ("improve ...", "use ...", "release v2.3") or a mention of the
  docs means not an incident only when nothing in the text says that something is failing (slowness included)
  and it quotes no error string a playbook knows; unless its author says it is "more of a question than a bug".
"""

from __future__ import annotations

import re

from bot.vocabulary import in_english

FEATURE_REQUEST = "a feature request"
DOCUMENTATION = "a documentation report"
QUESTION = "a how-to question"
CHORE = "a maintenance task"

_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_CODE = re.compile(r"`[^`\n]*`")

# Someone is hurting now: never a feature request, whatever else the text says.
_URGENT = re.compile(
    r"\b(right now|asap|urgent(?:ly)?|emergency|outage|on fire|(?<!for )(?<!only )(?<!per )sev-?[12]|p[01])\b"
    r"|\b(prod|production|site|service|api|app|everything|website)\s+(?:is\s+|are\s+)?(down|dead|broken|on fire)\b"
    r"|\b(customers?|users?)\s+(?:are\s+|is\s+)?(can'?t|cannot|unable|not able|getting|seeing|complaining)\b",
)

# Each cue list puts its word cues under one `\b(?:...)`: the engine then tests the word boundary once per
# position rather than once per alternative, which made these lists most of the cost of reading a long text.
_REQUEST = re.compile(
    r"\[feature\]|\A\s*feat(?:ure)?\s*[:(/]|\A\s*(?:request|wishlist|wish|idea)\s*:|\A\s*rfe\s*:"
    r"|\[(?:rfe|fr|feature\s+request|enhancement|request)\]"
    r"|\b(?:feature[ -]?requests?\b"
    r"|would\s+be\s+(?:really\s+|very\s+|so\s+|much\s+)?(?:great|nice|good|helpful|useful|awesome|cool|better|"
    r"easier|beneficial|preferable|convenient|ideal|handy|valuable)\b|would\s+make\s+(?:more\s+)?sense\b"
    r"|could\s+be\s+(?:really\s+|very\s+)?(?:great|nice|cool|useful|helpful|handy)\s+to\b"
    r"|nice\s+to\s+have\b|would\s+love\b|wish\s*list\b"
    r"|(?:i|we)(?:\s+would|'d)\s+(?:like|love)\s+to\s+(?:have|see|add|be able|get|consider)\b"
    r"|(?:would|should)\s+like\s+to\s+(?:have|see|consider)\b"
    r"|(?:should|must|needs?\s+to|could)\s+be\s+added\b|describe\s+the\s+(?:feature|solution)\b"
    r"|please\s+(?:add|support|expose|provide|allow|implement|consider|make)\b"
    r"|(?:add|adding|provide|providing|introduce)\s+(?:an?\s+|the\s+)?(?:new\s+)?(?:[\w-]+\s+){0,2}(?:option|ability|support|setting|flag|parameter|config(?:uration)?\s+option)s?\b"
    # asking whether something could be built: "any plans to support ...", "would it be possible to add ..."
    r"|(?:any|are\s+there(?:\s+any)?|is\s+there\s+a)\s+plans?\s+(?:to|for|on)\b"
    r"|(?:would|will)\s+it\s+be\s+possible\s+to\s+(?:add|support|have|make|get|expose|allow|provide|configure|set|use|include|implement|export)\b"
    r"|(?:can|could)\s+(?:we|you)\s+(?:get|have)\s+(?:an?\s+)?(?:way|option|setting|flag|button|endpoint)\b"
    r"|(?:add|show|display|need)\s+an?\s+(?:\w+\s+){0,2}button\b"
    # proposing, as people word it: "Let's make it nicer by ...", "We need better logs for ...", "it's more
    # appropriate to return a 403", a user story ("As a frontend developer, I need ...")
    r"|let'?s\s+(?:make|add|use|support|allow|switch|move|have|provide|expose|introduce)\b"
    r"|(?:we|you)\s+should\s+consider\s+(?:allowing|adding|supporting|making|exposing|providing|using|introducing)\b"
    r"|we\s+need\s+(?:to\s+have\s+)?(?:a\s+|some\s+)?(?:better|clearer|nicer)\b|(?:more|less)\s+appropriate\s+to\b"
    r"|as\s+an?\s+(?:[\w-]+\s+){0,2}(?:developer|user|admin(?:istrator)?|operator|engineer|customer|maintainer|owner)\s*,\s*"
    r"(?:i|we)\s+(?:need|want|would\s+like)\b"
    # asking for better error reporting: "Permission denied errors should include ...", "error message should say ..."
    r"|error\s+messages?\s+(?:should|could|must|needs?\s+to)\b"
    r"|errors?\s+should\s+(?:include|contain|show|say|mention|explain|be\s+(?:more|clearer|logged|reported))\b)",
)

# Words that ask for a change, but also name things ("the Proposal service", "Option to pay by card", "Support for
# uploads"): they count only when the sentence does not go on to report a failure.
_REQUEST_WORDS = re.compile(
    r"\b(?:enhancements?|new\s+feature|proposal|propose|proposing|suggestion|rfc|roadmap|ability\s+to|option\s+to"
    r"|support\s+for|configurable|configuration\s+option|button\s+to)\b"
)
# ... and "typo in" or a title opening "Document ..." ("Document the retry policy"; "Document upload fails" is not).
_DOCS_WORDS = re.compile(r"\btypos?\s+in\b|\A\s*document\b")

# An imperative title, after a component scope or not ("postgres: calculate replication lag", "(infra) add ..."); a
# report's own label ("Error: make: *** ...", "[Bug] Return 500 on upload") is no scope.
_IMPERATIVE = re.compile(
    r"\A\s*(?:(?!(?:error|fatal|exception|warning|warn|failed|failure|panic|critical|bugs?)\s*:)[a-z][\w./-]*\s*:\s*"
    r"|[(\[](?!(?:bugs?|error|incident|issue|prod|production|regression|hotfix|crash|outage|urgent|critical|p[0-4]"
    r"|sev-?[1-4])\s*[)\]])[a-z][\w./ -]{0,30}[)\]]\s*)?"
    r"(?:add|adding|allow|support(?!\s+for\b)|supporting|expose|provide|implement|enable|make|handle|reject|return|change|"
    r"create|introduce|show|display|include|rename|deprecate|calculate|compute|report|collect|measure|export|emit|"
    r"better|update|upgrade|migrate|replace|switch|consider|optimi[sz]e|track|detect|validate|"
    r"verify|configure|define|set(?!\s+of\b)|leave)\b"
    r"(?![-:])"
)
# ... unless what follows the verb, in its sentence, reports a failure outside a condition: then the verb was a noun
# ("Report generation fails with timeout", "Create order endpoint times out"); "Add a retry when the upload fails"
# asks for a change. A state ("expired", "empty", "slow") counts once something is named ("Verify email links
# expired"): right after the verb it names the thing to change ("Handle expired tokens").
_CONDITION = r"(?:when|whenever|if|unless|once|after|before|on|instead|rather|so|for|in\s+case)\b"
# The rest of the sentence, up to a condition ("when the upload fails"); a version number ("1.4") ends no sentence.
_IN_SENTENCE = rf"(?:(?!\b{_CONDITION})(?:\d\.(?=\d)|[^.!?\n]))*?"
_REPORTED_FAILURE = re.compile(
    _IN_SENTENCE
    + r"\b(?:fails?|failing|failed|times?\s+out|timing\s+out|timed\s+out|broken|broke|stuck|down|stopped"
    r"|hangs?|hanging|dies|died|ignored|crash(?:es|ed|ing|loop\w*)|p9[59]\s+(?:is|at|of|=|>)\s*~?\d+(?:\.\d+)?\s*(?:ms|s|sec\w*|min\w*)"
    r"|(?:returns?|returning|returned|causes?|causing|caused|gives?|giving|throws?|throwing|gets?|getting|got|see|seeing"
    r"|with)\s+(?:an?\s+)?(?:http\s+)?[45]\d\d|[45]\d\d(?:s|\s+errors?)?(?=\s*(?:[.!]|\Z))|[45]\d\ds"
    r"|not\s+(?:loading|working|responding|starting|firing|sent|delivered|arriving|applied))\b"
    # a state, once something has been named: "links expired", "page blank"; "Handle expired tokens" names a thing
    rf"|\W*(?:(?:the|an?|all|every)\s+)?(?!{_CONDITION})[\w'-]+"
    + _IN_SENTENCE
    + r"\b(?:oomkill\w*|killed|evict\w*|expired|blank|empty"
    r"|no\s+data|pending|unschedulable|stale|slow(?!\s+(?:quer\w*|log\w*|mode|path)))\b"
)

_DOCS = re.compile(
    r"\A\s*\[?(?:docs?|documentation|readme)\]?\s*[:\]]|\[docs?\]|\A\s*\[guide\]|\A\s*documented\b"
    r"|\A\s*update\b.{0,120}\b(?:docs?|documentation|readme|playbook|runbook|guide)\b"
    r"|\A\s*(?:mention|document|explain|clarify)\b.{0,80}\b(?:in|to|into)\s+(?:the\s+)?(?:docs?|documentation|readme|guide|wiki)\b"
    r"|\b(?:(?:broken|dead)\s+(?:[\w-]+\s+){0,3}links?\b"
    r"|links?\s+(?:\S+\s+){0,8}(?:is|are)\s+broken\b|links?\s+(?:\S+\s+){0,8}(?:returns?|gives?|is|goes\s+to)\s+(?:an?\s+)?404\b"
    r"|(?:the\s+)?(?:docs?|documentation|readme|tutorial|guide|wiki)\s+(?:is|are|has|have|says?)\s+"
    r"(?:wrong|outdated|out of date|incorrect|missing|broken|unclear|confusing|misleading)\b"
    r"|(?:missing|add|update|improve|fix)\s+(?:the\s+)?(?:docs?|documentation|readme)\b"
    r"|document(?:ation)?\s+(?:for|about|on|how)\b)",
)

# Weaker cues: a question, a wish for other behaviour, a chore or a mention of the docs. They mean "not an
# incident" only when nothing in the text says that something is failing.
# The author says it is a question rather than a problem, whatever it goes on to quote.
_ASKED = re.compile(r"\bmore\s+(?:of\s+)?a\s+(?:question|query)\s+than\s+(?:an?\s+)?(?:issue|bug|problem)\b")
_QUESTION = re.compile(
    r"\A\s*(?:question|q|qa|help)\s*(?:[:\]]|-\s)|\[(?:question|q|help|support)\]"
    # a yes/no question in Chinese ("能...吗": "can it ...?"), before a question mark, a stop or the end (in
    # full-width forms too: \uff1f ? \u3002 . \uff0c , \uff01 !)
    r"|吗(?=\s*[?\uff1f]|\s*\Z|[\s.\u3002,\uff0c!\uff01])"
    # a yes/no question about behaviour: "Does repmgr look at the WAL ...?", "Does the rolling update work without ...?"
    # ("Does anyone else see 502s?" is someone reporting, not asking)
    r"|(?:\A|[.!?]\s+)(?:does|do|should|will|would)\s+(?!(?:anyone|anybody|someone|somebody|everyone|others?)\b)"
    r"[^.!?\n]{3,160}\?"
    r"|\b(?:how\s+(?:do|does|can|could|should|would)\s+(?:i|we|you|one)\b|how\s+to\b|is\s+there\s+(?:a|any)\b"
    r"|where\s+(?:to|do\s+(?:i|we|you)|can\s+(?:i|we)|should\s+(?:i|we))\s+(?:set|find|configure|put|get|change|add|specify|define|pass)\b"
    r"|are\s+there\s+(?:any|ways?)\b|is\s+it\s+possible\b|what(?:\s+is|'?s|\s+are)\s+(?:the\s+)?(?:best|recommended|right|correct|ideal|optimal|suggested|preferred)\b"
    r"|question\s*:|general\s+question\b|looking\s+for\s+(?:a\s+way|means|how)\b"
    r"|does\s+\S+\s+support\b|(?:can|could)\s+(?:i|someone|anyone)\b|does\s+anyone\s+know\b"
    r"|any\s+(?:ideas?|way|guidance|docs|documentation|examples?|recommendations?)\b"
    r"|what\s+does\s+\S+(?:\s+\S+)?\s+mean\b|what\s+(?:is|are)\s+the\s+difference\b)",
)
_WISH = re.compile(
    r"\A\s*better\b"
    r"|\A\s*(?:improve|use|remove|move|speed\s+up|cache|log|set\s+up|setup|clean\s+up)\b(?!\s*[:=\]])"
    r"|\A\s*(?:investigate|evaluate|explore)\s+(?:using|adding|moving|switching|whether|if|how)\b"
    r"|\b(?:should\s+(?:be\s+able\s+to|support|allow|have|provide|expose|return|show|display|include|log|emit|retry|use)\b"
    r"|a\s+way\s+to\b|we\s+(?:need|have)\s+to\s+(?:add|have|support|introduce|implement|provide|expose)\b"
    r"|\A[^.!?\n]{3,60}\bsupport\s*(?:[.!?]|\Z)"
    r"|needs?\s+(?:an?\s+(?:\w+\s+){0,2}(?:endpoint|option|setting|flag|button|page|api|way)|to\s+(?:support|expose|provide))\b"
    r"|(?:allow|enable)\s+(?:users?|us|people|clients?)\s+to\b)",
)
_DOCS_MENTION = re.compile(
    r"\A\s*document\b"
    r"|\b(?:(?:docs?|documentation|readme|wiki|tutorial|instructions?|clarify|clarification|wording|explain|explanation|typos?|spelling)\b"
    r"|[\w/.-]+\.(?:md|rst)\b|not\s+up\s+to\s+date\b|outdated\b|examples?\s+(?:for|of|on|showing|how)\b)",
)

# Maintenance: a conventional-commit prefix, a dependency bump or a release is a chore whatever words follow.
_CHORE = re.compile(
    r"\A\s*(?:chore|refactor|ci|build|style|tests?|deps|housekeeping)(?:\([\w-]+\))?\s*:"
    r"|\A\s*\[(?:chore|refactor|ci|build|style|tests?|deps|housekeeping)\]"
    r"|\A\s*bump\s+\S+\s+from\s+\S+\s+to\b|\A\s*(?:release|prepare\s+release|releasing)\s+v?\d+(?:\.\d+)*\s*\Z"
    # a change already made, as a pull request's title says it ("Fixed incorrect No data in ...")
    r"|\A\s*(?:fixed|refactored|bumped)\b(?!\s+ip\b)",
)
# Weaker chores: only when nothing is failing ("migrate CI to ...", "deprecation warning: ...").
_CHORE_WEAK = re.compile(
    r"\A\s*(?:bump|upgrade|migrate|refactor|rename|deprecate|drop\s+support|moved|updated|upgraded|migrated|removed"
    r"|replaced|added|renamed|implemented|introduced)\b"
    r"|\bdeprecat(?:ed|ion)\b"
    # a setting to change: "increase the visibility timeout from 1h to 5h"
    r"|\b(?:increase|decrease|raise|lower|reduce|extend|change|set)\b[^.!?\n]{0,60}\bfrom\s+\S+\s+to\s+\S",
)

# Something is failing: a how-to question that carries one of these is about an incident.
_FAILING = re.compile(
    r"\b(?:fail(?:s|ed|ing|ure|ures)?\b|errors?\s*(?:[:=(]|\d|occur|occurs|occurred|appear|shows?|is|was|when|while|after)"
    r"|(?:an?|this|the|same|following)\s+(?:\w+\s+)?(?:error|exception)\b|exception\b|traceback\b|errno\b"
    r"|\w+(?:error|exception)\b|refused\b|denied\b|forbidden\b|unauthori[sz]ed\b|cannot\b|can'?t\b"
    r"|unable\s+to\b|not\s+(?:working|responding|starting|sent|delivered|loading|firing)\b"
    r"|(?:doesn'?t|does\s+not|didn'?t|did\s+not|don'?t|won'?t|couldn'?t|could\s+not|isn'?t|aren'?t|wasn'?t|weren'?t)\s+(?:\w+\s+)?(?:work|start|respond|load|send|fire|connect|run|pick|show|reach|return|arrive|get|come)\w*\b"
    r"|errors\b|exited\b|exit\s+code\b|expired\b|killed\b|down\s+(?:for|since)\b"
    r"|stopped\s+working\b|broken\b|broke\b|crash\w*|stuck\b|hang(?:s|ing)?\b|keeps?\s+\w+ing\b"
    r"|(?:is|are|was|were|being|gets?|got|getting)\s+blocked\b"
    # a timeout, but not a timeout setting (configuration is asked about, not failing)
    r"|(?:timed?\s*outs?|times\s+out|timing\s+out)\b(?!\s+(?:settings?|options?|config\w*|parameters?|values?|flags?|propert\w+|is\s+\d))"
    r"|(?:returns?|returning|gets?|got|getting|gives?|giving|throws?|throwing)\s+(?:an?\s+)?(?:http\s+)?[45]\d\d\b|[45]\d\ds\b"
    r"|stale\b|evict\w*"
    r"|http/\d(?:\.\d)?\s+[45]\d\d\b|oom\w*|out\s+of\s+memory\b|is\s+down\b"
    r"|slow(?:s|er|ness|ly|down)?\b|tak(?:es|ing|e)\s+(?:over\s+|about\s+|around\s+|~)?\d+(?:[.,]\d+)?\s*(?:ms|s|secs?|seconds?|min(?:ute)?s?)\b)",
)


def not_incident(text: str, quotes_an_error: bool = False) -> str | None:
    """Why a text is not an incident (a feature request, documentation, a how-to question, a chore), or None.

    `quotes_an_error`: the text holds an error string the matcher knows; like a word of failure, it outweighs
    the weaker cues."""
    if not text or not text.strip():
        return None
    # The cues are written in lower case and in English: no case-insensitive matching, and the incident words of
    # a report in Chinese, Japanese or Korean are read in English ("上传失败" is "upload failed").
    unlinked = _URL.sub(" ", in_english(text.lower()))
    prose = _CODE.sub(" ", unlinked)  # cues count in the prose; failure evidence counts in code spans too
    if _URGENT.search(prose):
        return None
    if _DOCS.search(prose) or _names_a_change(_DOCS_WORDS, prose):
        return DOCUMENTATION
    if _CHORE.search(prose):
        return CHORE
    if _REQUEST.search(prose) or _names_a_change(_REQUEST_WORDS, prose) or _asks_for_a_change(prose):
        return FEATURE_REQUEST
    if _ASKED.search(prose):
        return QUESTION
    if quotes_an_error or _FAILING.search(unlinked):
        return None
    if _QUESTION.search(prose):
        return QUESTION
    if _WISH.search(prose):
        return FEATURE_REQUEST
    if _CHORE_WEAK.search(prose):
        return CHORE
    if _DOCS_MENTION.search(prose):
        return DOCUMENTATION
    return None


def _asks_for_a_change(prose: str) -> bool:
    """An imperative title whose sentence does not go on to report a failure."""
    return _names_a_change(_IMPERATIVE, prose)


def _names_a_change(cue: re.Pattern[str], prose: str) -> bool:
    """The cue is in the text, and what follows it in its sentence reports no failure."""
    found = cue.search(prose)
    return found is not None and not _REPORTED_FAILURE.match(prose, found.end())

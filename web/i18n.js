// All words on the screens, in Dutch and English, written in plain language (B1).
// Dutch is the default; a phone set to English gets English; a person's own choice, made with
// the switch on every screen, is remembered on the device.

const STORE_KEY = 'tafel:lang';

const nl = {
  appName: 'Tafel',
  switchTo: 'English',
  switchLang: 'en',
  skipToMain: 'Naar de inhoud',

  // Connection
  online: 'Online',
  offline: 'Offline — opnieuw verbinden…',
  connecting: 'Verbinden…',
  sending: 'Versturen…',
  backOnline: 'De verbinding is terug.',
  lostConnection: 'De verbinding is weg. We proberen het opnieuw. Wat je doet, wordt later verstuurd.',

  // Home
  homeTitle: 'Samen aan tafel',
  homeIntro: 'Met Tafel werk je samen aan één probleem. Iedereen doet mee met de eigen telefoon.',
  joinHeading: 'Meedoen met een code',
  codeLabel: 'Code',
  codeHint: 'De code staat op het grote scherm, bijvoorbeeld K7QM2X.',
  codeMissing: 'Vul de code in.',
  joinButton: 'Verder',
  createHeading: 'Een nieuwe sessie starten',
  createIntro: 'Voor de procesbegeleider. Je krijgt een code voor de deelnemers en een geheime link voor jezelf.',
  titleLabel: 'Titel',
  titleHint: 'Bijvoorbeeld: Minder papierwerk op de afdeling',
  titleMissing: 'Vul een titel in.',
  problemLabel: 'Het probleem',
  problemHint: 'Beschrijf kort waar de groep aan gaat werken.',
  facilitatorNameLabel: 'Jouw naam (mag leeg blijven)',
  languageLegend: 'Taal van de sessie',
  langNl: 'Nederlands',
  langEn: 'Engels',
  anonymousLabel: 'Kaarten zonder naam (niemand ziet wie wat schreef)',
  createButton: 'Sessie starten',
  creating: 'Bezig…',

  // Join
  loadingSession: 'De sessie laden…',
  joinAs: 'Je doet mee met',
  nameLabel: 'Je naam',
  nameHint: 'Zo zien anderen je. Je voornaam is genoeg.',
  nameMissing: 'Vul je naam in (hoogstens 40 tekens).',
  perspectiveLegend: 'Ik doe mee als',
  perspectiveMissing: 'Kies hoe je meedoet.',
  joinSubmit: 'Meedoen',
  joining: 'Aanmelden…',
  noSession: 'Er is geen sessie met deze code. Kijk de code nog eens na.',
  sessionLockedJoin: 'Deze sessie is op slot. Er kunnen nu geen nieuwe mensen bij. Vraag de procesbegeleider om hulp.',
  sessionEndedJoin: 'Deze sessie is afgelopen.',
  tryOtherCode: 'Een andere code invullen',
  retry: 'Opnieuw proberen',
  cannotLoad: 'Het laden is niet gelukt. Controleer je internet en probeer het opnieuw.',
  forgotten: 'We konden je niet terugvinden. Meld je opnieuw aan.',

  // Perspectives
  'perspective.client': 'Cliënt',
  'perspective.naaste': 'Naaste',
  'perspective.medewerker': 'Medewerker',
  'perspective.teamleider': 'Teamleider',
  'perspective.manager': 'Manager',
  'perspective.bestuurder': 'Bestuurder',
  'perspective.anders': 'Anders',
  'perspectiveHint.client': 'Ik krijg zorg of ondersteuning',
  'perspectiveHint.naaste': 'Familie of iemand die dichtbij een cliënt staat',
  'perspectiveHint.medewerker': 'Ik werk in de zorg of het welzijn',
  'perspectiveHint.teamleider': 'Ik leid een team',
  'perspectiveHint.manager': 'Ik geef leiding aan teams of een afdeling',
  'perspectiveHint.bestuurder': 'Ik zit in de directie of het bestuur',
  'perspectiveHint.anders': 'Iets anders',

  // Phases
  phaseOf: 'Fase {n}',
  'phase.0': 'Klaar voor actieleren?',
  'phase.1': 'Het probleem verkennen',
  'phase.2': 'Oplossingen ontwikkelen',
  'phase.3': 'Aanscherpen en kennis delen',
  'phase.4': 'Experimenteren',
  'phase.5': 'Presenteren en reflecteren',
  'phaseText.0': 'Is er een probleem dat dringend is en niet makkelijk op te lossen? En willen we daar samen aan werken?',
  'phaseText.1': 'We zoeken samen uit wat het probleem precies is, en voor wie het een probleem is. Stel veel vragen en vraag door.',
  'phaseText.2': 'Iedereen deelt ideeën, ook ideeën die ergens anders al werken. Elk idee telt.',
  'phaseText.3': 'We maken de beste ideeën samen sterker. Wat is nodig om een idee te laten werken? Durf je eigen lievelingsidee los te laten.',
  'phaseText.4': 'We proberen een idee uit in het echt. Werkt het niet? Dan mag je stoppen. Houd het doel voor ogen.',
  'phaseText.5': 'We vertellen wat we geleerd hebben: van wat goed ging én van wat mislukte. En we vieren wat gelukt is.',

  // Card kinds
  'kind.problem': 'Probleem',
  'kind.question': 'Vraag',
  'kind.idea': 'Idee',
  'kind.condition': 'Voorwaarde',
  'kind.experiment': 'Experiment',
  'kind.lesson': 'Les',
  'kind.note': 'Notitie',

  // Participant
  problemHeading: 'Het probleem',
  cardsHeading: 'Kaarten',
  noCards: 'Nog geen kaarten in deze fase.',
  addCardHeading: 'Kaart toevoegen',
  cardTextLabel: 'Wat wil je delen?',
  cardKindLabel: 'Soort kaart',
  charsLeft: '{n} van {max} tekens',
  tooLong: 'Te lang: haal {n} tekens weg.',
  cardEmpty: 'Schrijf eerst iets op de kaart.',
  addCardButton: 'Toevoegen',
  cardAdded: 'Je kaart is toegevoegd.',
  editCardHeading: 'Kaart aanpassen',
  saveButton: 'Opslaan',
  cancelButton: 'Annuleren',
  closeButton: 'Sluiten',
  cardSaved: 'Je kaart is aangepast.',
  editButton: 'Aanpassen',
  withdrawButton: 'Intrekken',
  withdrawConfirm: 'Kaart intrekken? Niemand ziet hem dan nog.',
  withdrawYes: 'Ja, intrekken',
  cardWithdrawn: 'Je kaart is ingetrokken.',
  yourCard: 'Jouw kaart',
  byName: 'van {name}',
  sessionEndedNotice: 'Deze sessie is afgelopen. Je kunt alles nog lezen, maar niets meer veranderen.',
  sessionLockedNotice: 'De sessie is op slot: er kunnen geen nieuwe mensen bij.',

  // Voting
  roundOpenHeading: 'Stemmen',
  roundOpenText: 'Geef je stemmen aan de kaarten die jij het belangrijkst vindt. Je mag hoogstens {max} stemmen op één kaart geven.',
  votesLeft: 'Je hebt nog {n} van {budget} stemmen.',
  votesLeftShort: 'Nog {n} van {budget} stemmen',
  voteFor: 'Stem op deze kaart',
  unvoteFor: 'Stem terugnemen',
  yourVotes: 'Jouw stemmen: {n}',
  totalVotes: '{n} stemmen in totaal',
  noVotesLeft: 'Je hebt al je stemmen gegeven. Neem eerst een stem terug.',
  maxOnCard: 'Je hebt al {max} stemmen op deze kaart gegeven.',
  resultHeading: 'Uitslag',
  resultVotes: '{n} stemmen',
  resultVote: '1 stem',
  hiddenCard: '(kaart niet meer zichtbaar)',
  votersProgress: '{n} van {m} deelnemers hebben gestemd',
  liveResults: 'Tussenstand',

  // Facilitator
  facilitatorHeading: 'Procesbegeleider',
  inviteHeading: 'Deelnemers uitnodigen',
  joinCodeLabel: 'Code',
  qrAlt: 'QR-code: scan deze om mee te doen',
  joinLinkLabel: 'Link om mee te doen',
  projectorLinkLabel: 'Link voor het grote scherm',
  projectorLinkUnknown: 'Op dit apparaat is nog geen link voor het grote scherm bewaard.',
  projectorLinkNew: 'Maak een link voor het grote scherm',
  projectorLinkMade: 'De link voor het grote scherm is klaar.',
  facilitatorLinkLabel: 'Jouw geheime link (deel deze niet)',
  copy: 'Kopiëren',
  copied: 'Gekopieerd.',
  copyFailed: 'Kopiëren lukte niet. Selecteer de link en kopieer hem zelf.',
  participantsHeading: 'Deelnemers ({n})',
  noParticipants: 'Nog niemand. Laat de code of de QR-code zien.',
  isOnline: 'online',
  isOffline: 'offline',
  facilitatorRole: 'procesbegeleider',
  phaseHeading: 'Fase',
  phaseNow: 'nu',
  phaseChanged: 'De sessie is nu in fase {n}.',
  votingHeading: 'Stemronde',
  budgetLabel: 'Stemmen per persoon',
  maxPerCardLabel: 'Stemmen per kaart, hoogstens',
  liveLabel: 'Iedereen ziet de tussenstand',
  openRoundButton: 'Stemronde openen',
  closeRoundButton: 'Stemronde sluiten',
  roundOpened: 'De stemronde is open.',
  roundOpenedParticipant: 'Je kunt nu stemmen. Je hebt {n} stemmen.',
  roundClosed: 'De stemronde is gesloten.',
  roundRunning: 'De stemronde loopt.',
  noVisibleCards: 'Er zijn nog geen zichtbare kaarten in deze fase om op te stemmen.',
  sessionHeading: 'Sessie',
  statusOpen: 'Open: nieuwe mensen kunnen meedoen.',
  statusLocked: 'Op slot: er kunnen geen nieuwe mensen bij.',
  statusEnded: 'Afgelopen: niets kan nog veranderen.',
  lockButton: 'Op slot doen',
  unlockButton: 'Van het slot halen',
  endButton: 'Sessie beëindigen',
  endConfirm: 'Weet je het zeker? Na het beëindigen kan niemand nog iets veranderen. Dit kun je niet terugdraaien.',
  endYes: 'Ja, beëindigen',
  allCardsHeading: 'Kaarten in deze fase',
  otherPhasesHeading: 'Kaarten uit andere fases ({n})',
  hideButton: 'Verbergen',
  restoreButton: 'Terugzetten',
  mergeButton: 'Samenvoegen…',
  mergeInto: 'Samenvoegen met',
  mergedInto: 'Samengevoegd met',
  mergeYes: 'Samenvoegen',
  mergeNone: 'Er is geen andere zichtbare kaart om mee samen te voegen.',
  statusHidden: 'verborgen',
  statusWithdrawn: 'ingetrokken',
  statusMerged: 'samengevoegd',
  done: 'Gedaan.',
  noFacilitatorToken: 'Deze link mist het geheime deel. Open de link die je kreeg toen je de sessie startte.',
  badLink: 'Deze link klopt niet (meer). Open de link die je kreeg toen je de sessie startte.',

  // Projector
  projectorJoin: 'Doe mee: ga naar',
  projectorOrScan: 'of scan de QR-code',
  projectorCode: 'met code',
  noProjectorToken: 'Deze link voor het grote scherm mist het geheime deel.',

  // Errors
  'error.bad_message': 'Er ging iets mis met het bericht. Laad de pagina opnieuw.',
  'error.unknown_command': 'Deze versie van Tafel kent dat niet. Laad de pagina opnieuw.',
  'error.unsupported_version': 'Er is een nieuwe versie van Tafel. Laad de pagina opnieuw.',
  'error.not_joined': 'Je bent nog niet aangemeld. Een moment…',
  'error.already_joined': 'Je bent al aangemeld.',
  'error.session_not_found': 'Er is geen sessie met deze code.',
  'error.session_locked': 'De sessie is op slot. Er kunnen geen nieuwe mensen bij.',
  'error.session_full': 'Deze sessie is vol. Er kunnen geen mensen meer bij.',
  'error.session_ended': 'De sessie is afgelopen. Er kan niets meer veranderen.',
  'error.bad_token': 'Deze link of aanmelding is niet (meer) geldig.',
  'error.too_many_attempts': 'Te vaak een verkeerde code. Wacht even en probeer het dan opnieuw.',
  'error.forbidden': 'Dat mag je hier niet doen.',
  'error.invalid': 'Dat klopt niet helemaal. Kijk de invoer nog eens na.',
  'error.unknown_card': 'Deze kaart bestaat niet (meer).',
  'error.unknown_round': 'Deze stemronde bestaat niet.',
  'error.card_unavailable': 'Met deze kaart kan dat nu niet.',
  'error.round_closed': 'De stemronde is al gesloten.',
  'error.round_open': 'Er loopt nog een stemronde. Sluit die eerst.',
  'error.over_budget': 'Je hebt al je stemmen gegeven.',
  'error.card_limit': 'Je hebt het hoogste aantal stemmen op deze kaart al gegeven.',
  'error.no_vote': 'Je hebt geen stem op deze kaart om terug te nemen.',
  'error.internal': 'Er ging iets mis bij de server. Er is niets veranderd. Probeer het opnieuw.',
  'error.network': 'Geen verbinding met de server. Probeer het opnieuw.',
  'error.unknown': 'Er ging iets mis. Probeer het opnieuw.',

  notFound: 'Deze pagina bestaat niet.',
  toHome: 'Naar de beginpagina',
};

const en = {
  appName: 'Tafel',
  switchTo: 'Nederlands',
  switchLang: 'nl',
  skipToMain: 'Skip to content',

  online: 'Online',
  offline: 'Offline — reconnecting…',
  connecting: 'Connecting…',
  sending: 'Sending…',
  backOnline: 'You are connected again.',
  lostConnection: 'The connection is lost. We keep trying. What you do is sent later.',

  homeTitle: 'Together at the table',
  homeIntro: 'With Tafel a group works on one problem together. Everyone takes part with their own phone.',
  joinHeading: 'Join with a code',
  codeLabel: 'Code',
  codeHint: 'The code is on the big screen, for example K7QM2X.',
  codeMissing: 'Fill in the code.',
  joinButton: 'Next',
  createHeading: 'Start a new session',
  createIntro: 'For the facilitator. You get a code for the participants and a secret link for yourself.',
  titleLabel: 'Title',
  titleHint: 'For example: Less paperwork on the ward',
  titleMissing: 'Fill in a title.',
  problemLabel: 'The problem',
  problemHint: 'Describe in short what the group will work on.',
  facilitatorNameLabel: 'Your name (you may leave this empty)',
  languageLegend: 'Language of the session',
  langNl: 'Dutch',
  langEn: 'English',
  anonymousLabel: 'Cards without names (nobody sees who wrote what)',
  createButton: 'Start session',
  creating: 'Working…',

  loadingSession: 'Loading the session…',
  joinAs: 'You are joining',
  nameLabel: 'Your name',
  nameHint: 'This is how others see you. Your first name is enough.',
  nameMissing: 'Fill in your name (40 characters at most).',
  perspectiveLegend: 'I take part as',
  perspectiveMissing: 'Choose how you take part.',
  joinSubmit: 'Join',
  joining: 'Joining…',
  noSession: 'There is no session with this code. Please check the code.',
  sessionLockedJoin: 'This session is locked. New people cannot join now. Ask the facilitator for help.',
  sessionEndedJoin: 'This session has ended.',
  tryOtherCode: 'Fill in another code',
  retry: 'Try again',
  cannotLoad: 'Loading did not work. Check your internet and try again.',
  forgotten: 'We could not find you again. Please join again.',

  'perspective.client': 'Client',
  'perspective.naaste': 'Relative',
  'perspective.medewerker': 'Care worker',
  'perspective.teamleider': 'Team lead',
  'perspective.manager': 'Manager',
  'perspective.bestuurder': 'Director',
  'perspective.anders': 'Other',
  'perspectiveHint.client': 'I receive care or support',
  'perspectiveHint.naaste': 'Family, or someone close to a client',
  'perspectiveHint.medewerker': 'I work in care or welfare',
  'perspectiveHint.teamleider': 'I lead a team',
  'perspectiveHint.manager': 'I manage teams or a department',
  'perspectiveHint.bestuurder': 'I am on the board or in the management',
  'perspectiveHint.anders': 'Something else',

  phaseOf: 'Phase {n}',
  'phase.0': 'Ready for action learning?',
  'phase.1': 'Explore the problem',
  'phase.2': 'Develop solutions',
  'phase.3': 'Sharpen and share knowledge',
  'phase.4': 'Experiment',
  'phase.5': 'Present and reflect',
  'phaseText.0': 'Is there a problem that is urgent and not easy to solve? And do we want to work on it together?',
  'phaseText.1': 'We find out together what the problem really is, and who it is a problem for. Ask many questions, and keep asking.',
  'phaseText.2': 'Everyone shares ideas, also ideas that already work somewhere else. Every idea counts.',
  'phaseText.3': 'We make the best ideas stronger together. What does an idea need to work? Dare to let go of your own favourite.',
  'phaseText.4': 'We try an idea in real life. Does it not work? Then it is fine to stop. Keep the goal in mind.',
  'phaseText.5': 'We share what we learned: from what went well and from what failed. And we celebrate what worked.',

  'kind.problem': 'Problem',
  'kind.question': 'Question',
  'kind.idea': 'Idea',
  'kind.condition': 'Condition',
  'kind.experiment': 'Experiment',
  'kind.lesson': 'Lesson',
  'kind.note': 'Note',

  problemHeading: 'The problem',
  cardsHeading: 'Cards',
  noCards: 'No cards in this phase yet.',
  addCardHeading: 'Add a card',
  cardTextLabel: 'What do you want to share?',
  cardKindLabel: 'Kind of card',
  charsLeft: '{n} of {max} characters',
  tooLong: 'Too long: remove {n} characters.',
  cardEmpty: 'Write something on the card first.',
  addCardButton: 'Add',
  cardAdded: 'Your card was added.',
  editCardHeading: 'Change your card',
  saveButton: 'Save',
  cancelButton: 'Cancel',
  closeButton: 'Close',
  cardSaved: 'Your card was changed.',
  editButton: 'Change',
  withdrawButton: 'Withdraw',
  withdrawConfirm: 'Withdraw this card? Nobody will see it any more.',
  withdrawYes: 'Yes, withdraw',
  cardWithdrawn: 'Your card was withdrawn.',
  yourCard: 'Your card',
  byName: 'by {name}',
  sessionEndedNotice: 'This session has ended. You can still read everything, but nothing can change any more.',
  sessionLockedNotice: 'The session is locked: new people cannot join.',

  roundOpenHeading: 'Voting',
  roundOpenText: 'Give your votes to the cards you find most important. You may give at most {max} votes to one card.',
  votesLeft: 'You have {n} of {budget} votes left.',
  votesLeftShort: '{n} of {budget} votes left',
  voteFor: 'Vote for this card',
  unvoteFor: 'Take back a vote',
  yourVotes: 'Your votes: {n}',
  totalVotes: '{n} votes in total',
  noVotesLeft: 'You have given all your votes. Take one back first.',
  maxOnCard: 'You already gave {max} votes to this card.',
  resultHeading: 'Result',
  resultVotes: '{n} votes',
  resultVote: '1 vote',
  hiddenCard: '(card no longer visible)',
  votersProgress: '{n} of {m} participants have voted',
  liveResults: 'Votes so far',

  facilitatorHeading: 'Facilitator',
  inviteHeading: 'Invite participants',
  joinCodeLabel: 'Code',
  qrAlt: 'QR code: scan it to join',
  joinLinkLabel: 'Link to join',
  projectorLinkLabel: 'Link for the big screen',
  projectorLinkUnknown: 'This device has no link for the big screen yet.',
  projectorLinkNew: 'Make a link for the big screen',
  projectorLinkMade: 'The link for the big screen is ready.',
  facilitatorLinkLabel: 'Your secret link (do not share it)',
  copy: 'Copy',
  copied: 'Copied.',
  copyFailed: 'Copying did not work. Select the link and copy it yourself.',
  participantsHeading: 'Participants ({n})',
  noParticipants: 'Nobody yet. Show the code or the QR code.',
  isOnline: 'online',
  isOffline: 'offline',
  facilitatorRole: 'facilitator',
  phaseHeading: 'Phase',
  phaseNow: 'now',
  phaseChanged: 'The session is now in phase {n}.',
  votingHeading: 'Voting round',
  budgetLabel: 'Votes per person',
  maxPerCardLabel: 'Votes per card, at most',
  liveLabel: 'Everyone sees the votes so far',
  openRoundButton: 'Open voting round',
  closeRoundButton: 'Close voting round',
  roundOpened: 'The voting round is open.',
  roundOpenedParticipant: 'You can vote now. You have {n} votes.',
  roundClosed: 'The voting round is closed.',
  roundRunning: 'The voting round is running.',
  noVisibleCards: 'There are no visible cards in this phase to vote on yet.',
  sessionHeading: 'Session',
  statusOpen: 'Open: new people can join.',
  statusLocked: 'Locked: new people cannot join.',
  statusEnded: 'Ended: nothing can change any more.',
  lockButton: 'Lock',
  unlockButton: 'Unlock',
  endButton: 'End session',
  endConfirm: 'Are you sure? After ending, nobody can change anything. You cannot undo this.',
  endYes: 'Yes, end it',
  allCardsHeading: 'Cards in this phase',
  otherPhasesHeading: 'Cards from other phases ({n})',
  hideButton: 'Hide',
  restoreButton: 'Restore',
  mergeButton: 'Merge…',
  mergeInto: 'Merge into',
  mergedInto: 'Merged into',
  mergeYes: 'Merge',
  mergeNone: 'There is no other visible card to merge with.',
  statusHidden: 'hidden',
  statusWithdrawn: 'withdrawn',
  statusMerged: 'merged',
  done: 'Done.',
  noFacilitatorToken: 'This link misses its secret part. Open the link you got when you started the session.',
  badLink: 'This link is not valid (any more). Open the link you got when you started the session.',

  projectorJoin: 'Join: go to',
  projectorOrScan: 'or scan the QR code',
  projectorCode: 'with code',
  noProjectorToken: 'This link for the big screen misses its secret part.',

  'error.bad_message': 'Something went wrong with the message. Please reload the page.',
  'error.unknown_command': 'This version of Tafel does not know that. Please reload the page.',
  'error.unsupported_version': 'There is a new version of Tafel. Please reload the page.',
  'error.not_joined': 'You have not joined yet. One moment…',
  'error.already_joined': 'You have already joined.',
  'error.session_not_found': 'There is no session with this code.',
  'error.session_locked': 'The session is locked. New people cannot join.',
  'error.session_full': 'This session is full. No more people can join.',
  'error.session_ended': 'The session has ended. Nothing can change any more.',
  'error.bad_token': 'This link or sign-in is not valid (any more).',
  'error.too_many_attempts': 'Too many wrong codes. Wait a while, then try again.',
  'error.forbidden': 'You may not do that here.',
  'error.invalid': 'That is not quite right. Please check what you filled in.',
  'error.unknown_card': 'This card does not exist (any more).',
  'error.unknown_round': 'This voting round does not exist.',
  'error.card_unavailable': 'That is not possible with this card now.',
  'error.round_closed': 'The voting round is already closed.',
  'error.round_open': 'A voting round is still open. Close it first.',
  'error.over_budget': 'You have given all your votes.',
  'error.card_limit': 'You already gave the most votes allowed to this card.',
  'error.no_vote': 'You have no vote on this card to take back.',
  'error.internal': 'Something went wrong on the server. Nothing changed. Please try again.',
  'error.network': 'No connection to the server. Please try again.',
  'error.unknown': 'Something went wrong. Please try again.',

  notFound: 'This page does not exist.',
  toHome: 'To the start page',
};

const strings = { nl, en };
const listeners = new Set();
let current = initialLanguage();

function stored() {
  try {
    const value = localStorage.getItem(STORE_KEY);
    return value === 'nl' || value === 'en' ? value : null;
  } catch {
    return null;
  }
}

function initialLanguage() {
  const own = stored();
  if (own) return own;
  return (navigator.language || '').toLowerCase().startsWith('en') ? 'en' : 'nl';
}

/** The language in use: "nl" or "en". */
export function lang() {
  return current;
}

/** A string in the current language, with {placeholders} filled in from vars. */
export function t(key, vars) {
  let text = strings[current][key] ?? strings.nl[key] ?? key;
  for (const [name, value] of Object.entries(vars || {})) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

/** The person chose a language with the switch: use it and remember it on this device. */
export function choose(language) {
  try {
    localStorage.setItem(STORE_KEY, language);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  change(language);
}

/**
 * A session says which language it speaks. Use it, unless the person chose a language
 * themselves or their phone is set to English.
 */
export function suggest(language) {
  if (stored() || (navigator.language || '').toLowerCase().startsWith('en')) return;
  if (language === 'nl' || language === 'en') change(language);
}

function change(language) {
  if (language === current) return;
  current = language;
  document.documentElement.lang = language;
  for (const listener of listeners) listener(language);
}

/** Calls fn(language) whenever the language changes. */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

document.documentElement.lang = current;

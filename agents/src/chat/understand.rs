//! Understanding a question in Venezuelan Spanish: the intent, the horizon, and the products and
//! stores it names — forgiving of accents, brands, abbreviations and typos.

use super::text::{word_match, words};
use chrono::{Datelike, NaiveDate};
use fluxion_domain::{Coming, Intent, Resolved, Turn};
use std::collections::HashMap;

/// Words of a question that name no product, though a product's name may hold them ("Aderezo
/// Mil Islas", "Cerveza Cero"): left out of questions only.
const QUESTION_STOPWORDS: &[&str] = &[
    "donde",
    "estoy",
    "estamos",
    "vence",
    "vencen",
    "vencer",
    "vencimiento",
    "vencidos",
    "caduca",
    "caducan",
    "dolar",
    "dolares",
    "usd",
    "us",
    "presupuesto",
    "mil",
    "dinero",
    "alcanza",
    "gastar",
    "gasto",
    "cero",
    "ceros",
    "producto",
    "productos",
    "compro",
    "compramos",
    "compra",
    "invertir",
    "invierto",
    "invierte",
    "invertimos",
    "queda",
    "quedan",
    "quedo",
    "existencia",
    "existencias",
    "inventario",
    "stock",
    "disponible",
    "disponibles",
    "llega",
    "llegan",
    "llegue",
    "viene",
    "vienen",
    "camino",
    "pedido",
    "pedidos",
    "tiene",
    "tienen",
    "llego",
    "llegaron",
    "llegado",
    "atrasado",
    "atrasados",
    "atrasada",
    "atrasadas",
    "retrasado",
    "retrasados",
    "retrasada",
    "retrasadas",
    "entrega",
    "entregas",
    "recibir",
    "recibo",
    "recibimos",
    "proveedor",
    "proveedores",
    "pendiente",
    "pendientes",
    "transito",
    "ordenes",
    "llegar",
    "fin",
    "trae",
    "traen",
    "orden",
    "despacho",
    "despachos",
    "camion",
    "camiones",
    "transferencia",
    "transferencias",
    "traslado",
    "traslados",
];

/// Whether a word of a question names no product.
fn question_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w) || QUESTION_STOPWORDS.contains(&w) || WEEKDAYS.contains(&w)
}

/// Words that never name a product or a store.
const STOPWORDS: &[&str] = &[
    "a",
    "al",
    "algo",
    "como",
    "con",
    "cual",
    "cuales",
    "cuanta",
    "cuantas",
    "cuanto",
    "cuantos",
    "de",
    "del",
    "debo",
    "deberia",
    "dia",
    "dias",
    "el",
    "ella",
    "en",
    "es",
    "esta",
    "este",
    "esto",
    "hay",
    "hoy",
    "la",
    "las",
    "le",
    "lo",
    "los",
    "mas",
    "me",
    "mi",
    "mis",
    "manana",
    "mes",
    "necesito",
    "necesitamos",
    "para",
    "pedir",
    "por",
    "proxima",
    "proximo",
    "que",
    "quincena",
    "se",
    "semana",
    "semanas",
    "si",
    "sin",
    "su",
    "sus",
    "te",
    "tengo",
    "tenemos",
    "tienda",
    "tiendas",
    "un",
    "una",
    "unos",
    "va",
    "vamos",
    "voy",
    "y",
    "ya",
    "yo",
    "cuando",
    "ordenar",
    "comprar",
    "pido",
    "pedimos",
    "vendio",
    "vendi",
    "vendimos",
    "vende",
    "venta",
    "ventas",
    "agotar",
    "agota",
    "agotan",
    "acabar",
    "acaba",
    "falta",
    "faltan",
    "transferir",
    "mover",
    "sobra",
    "sobran",
    "hace",
    "quiero",
    "saber",
    "dime",
    "ver",
    "muestrame",
    "favor",
    "gracias",
    "hola",
    "buenas",
    "buenos",
    "dias",
    "cuantos",
    "unidades",
    "cadena",
    "todas",
    "todo",
    "toda",
    "fue",
    "ha",
    "han",
    "sido",
    "ir",
    "puedo",
    "pueden",
    "ayer",
    "anoche",
    "antier",
    "anteayer",
    "pasada",
    "pasado",
    "anterior",
    "ultimo",
    "ultima",
    "ultimos",
    "ultimas",
    "vendido",
    "vendida",
    "vendidos",
    "vendidas",
    "vendieron",
    "vendiste",
    "venden",
    "vender",
    "van",
    "anda",
    "andan",
    "estan",
    "estuvo",
    "fueron",
];

/// A product or store name ready for matching.
#[derive(Debug, Clone)]
struct Entry {
    code: String,
    name: String,
    words: Vec<String>,
    /// The first word of its name: what it is ("aceite" in Aceite vegetal Diana, "sardinas" in
    /// Sardinas en aceite).
    head: String,
    /// How much it sells (recent units), to prefer what people most likely mean.
    popularity: f64,
}

/// A name found in a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Index in the catalog's products or stores, in the order given.
    pub index: usize,
    /// The code.
    pub code: String,
    /// The name.
    pub name: String,
    /// The question's words that matched.
    pub mention: String,
    /// Match score, 0–1 (share of the question's name words it matched, weighted by rarity).
    pub score: f64,
}

/// The names a tenant's questions can mention.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    products: Vec<Entry>,
    stores: Vec<Entry>,
    /// How many products carry each word (rare words weigh more).
    product_df: HashMap<String, usize>,
    store_df: HashMap<String, usize>,
    /// The evening the tenant's numbers are for (dates such as "diciembre" count from it).
    today: Option<NaiveDate>,
}

/// What a question asks, resolved against a catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Understanding {
    /// The intent.
    pub intent: Intent,
    /// Days ahead the question is about.
    pub horizon_days: u32,
    /// How the question named the horizon ("la quincena"), when it did.
    pub horizon_es: Option<String>,
    /// Products named, best first (the tied best when the question is ambiguous).
    pub products: Vec<Found>,
    /// Stores named (none = the whole chain).
    pub stores: Vec<Found>,
    /// Words that looked like a product name but matched nothing.
    pub unmatched: Vec<String>,
    /// Every word of the question that may name a product (neither a store's, a horizon's nor a
    /// common word): what a search by similarity looks for.
    pub product_words: String,
    /// Whether the question said what it wants (rather than the intent being assumed).
    pub intent_explicit: bool,
    /// Whether it read as a follow-up of the previous turn ("¿y en Valencia?") and took from it.
    pub follow_up: bool,
    /// Products the question named as well as the chosen one, set aside because the chosen one
    /// sells far more ("harina PAN": the blanca, not the amarilla); the answer mentions them.
    pub alternatives: Vec<Found>,
    /// Whether a question about sales asks about one day ("hoy", "ayer"): the answer starts with
    /// the store's last day with data, named by its date.
    pub one_day: bool,
    /// The money the question says there is to spend, USD ("¿qué pido con 5.000 dólares?").
    pub budget_usd: Option<f64>,
    /// Whether the question asks about lots that may expire ("¿qué se me vence?") rather than
    /// everything in excess.
    pub expiring: bool,
    /// What a stock question asks about the goods on their way ("¿qué me llega mañana?"), if it does.
    pub coming: Option<Coming>,
    /// Whether it asks only about purchase orders (`Some(true)`: "¿qué proveedores están
    /// atrasados?") or only about transfers (`Some(false)`: "¿qué transferencias me llegan?").
    pub coming_from_supplier: Option<bool>,
    /// The senders whose deliveries it asks about by name ("¿cuándo llega el pedido de Polar?"),
    /// found by [`Catalog::senders_named`] (empty: every sender).
    pub senders: Vec<String>,
}

impl Understanding {
    /// Whether the question asks what to order without naming a product ("¿qué pido hoy en
    /// Chacao?"): the answer is the stores' orders.
    pub fn store_orders(&self) -> bool {
        self.intent == Intent::Need && self.products.is_empty() && self.unmatched.is_empty()
    }
}

impl Understanding {
    /// Whether the horizon names one day ahead rather than the days up to it ("el martes", "pasado
    /// mañana"): what arrives that day only.
    pub fn names_one_day(&self) -> bool {
        self.horizon_es
            .as_deref()
            .is_some_and(|h| h == "pasado mañana" || WEEKDAYS_ES.iter().any(|d| h.strip_prefix("el ") == Some(*d)))
    }

    /// Whether the question names several products equally, none clearly the one meant: the answer
    /// asks which.
    pub fn ambiguous(&self) -> bool {
        self.products.len() > 1 && matches!(self.intent, Intent::Need | Intent::Sales)
    }
}

impl Catalog {
    /// A catalog of `(code, name, brand)` products and `(code, name, city)` stores.
    pub fn new<'a>(
        products: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
        stores: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Self {
        let entry = |code: &str, name: &str, extra: &str| {
            let head = words(name).into_iter().find(|x| !STOPWORDS.contains(&x.as_str())).unwrap_or_default();
            let mut w = words(&format!("{name} {extra}"));
            w.retain(|x| !STOPWORDS.contains(&x.as_str()));
            w.sort();
            w.dedup();
            Entry { code: code.to_owned(), name: name.to_owned(), words: w, head, popularity: 0.0 }
        };
        let products: Vec<Entry> = products.into_iter().map(|(c, n, b)| entry(c, n, b)).collect();
        let stores: Vec<Entry> = stores.into_iter().map(|(c, n, city)| entry(c, n, city)).collect();
        let df = |entries: &[Entry]| {
            let mut df: HashMap<String, usize> = HashMap::new();
            for e in entries {
                for w in &e.words {
                    *df.entry(w.clone()).or_default() += 1;
                }
            }
            df
        };
        Self { product_df: df(&products), store_df: df(&stores), products, stores, today: None }
    }

    /// Number of products.
    pub fn product_count(&self) -> usize {
        self.products.len()
    }

    /// Understands `question`.
    pub fn understand(&self, question: &str) -> Understanding {
        let mut all: Vec<String> = words(question);
        // The amount of a budget ("2.000 dólares") names no product and no horizon.
        let budget = budget_in(question);
        if let Some((_, at, amount)) = &budget {
            // Where it was read; else (an abbreviation before it joined words) where its words are.
            let at = Some(*at)
                .filter(|&at| all.get(at..at + amount.len()) == Some(amount.as_slice()))
                .or_else(|| all.windows(amount.len()).position(|w| w == amount.as_slice()));
            if let Some(at) = at {
                all.drain(at..at + amount.len());
            }
        }
        let budget_usd = budget.map(|(usd, _, _)| usd);
        let intent = intent_of(&all);
        let (horizon_days, horizon_es) = horizon_of(&all, self.today);
        // The numbers of a horizon ("3 días", "dos semanas") are not product words.
        const UNITS: [&str; 8] = ["dia", "dias", "semana", "semanas", "quincena", "quincenas", "mes", "meses"];
        let mut free: Vec<String> = all
            .iter()
            .enumerate()
            .filter(|(k, w)| !question_stopword(w) && !all.get(k + 1).is_some_and(|n| UNITS.contains(&n.as_str())))
            .map(|(_, w)| w.clone())
            .collect();
        // Stores first: their words (the whole name of a store that matched) are not product words.
        let stores = self.best(&self.stores, &self.store_df, &free, true);
        // Of the words matching a store's word, only the closest are the store's: "leche" is still
        // a product word in "¿hay leche en Lechería?".
        for s in &stores {
            for u in &self.stores[s.index].words {
                let best = free.iter().map(|w| word_match(w, u)).fold(0.0, f64::max);
                if best >= 0.85 {
                    free.retain(|w| word_match(w, u) < best);
                }
            }
        }
        if intent == Intent::Recall {
            free.retain(|w| !RECALL_WORDS.contains(&w.as_str()));
        }
        let free = self.split_compounds(free);
        let mut products = if matches!(intent, Intent::Confirm { .. } | Intent::Help) && free.is_empty() {
            Vec::new()
        } else {
            self.best(&self.products, &self.product_df, &free, false)
        };
        let alternatives = self.prefer_best_seller(&mut products);
        let unmatched = if products.is_empty() {
            free.iter().filter(|w| w.len() >= 3 && !w.chars().all(|c| c.is_ascii_digit())).cloned().collect()
        } else {
            Vec::new()
        };
        let intent_explicit = intent != Intent::Help;
        // A look back: the days it covers take the horizon's place.
        let (horizon_days, horizon_es) =
            if intent == Intent::Recall { (lookback_of(&all), None) } else { (horizon_days, horizon_es) };
        let one_day = intent == Intent::Sales && all.iter().any(|w| matches!(w.as_str(), "hoy" | "ayer" | "anoche"));
        // "¿Qué me llega hoy?": the first morning after the books (their evening is the last day with data).
        let coming = if intent == Intent::Stock { coming_of(&all) } else { None };
        let (horizon_days, horizon_es) = if coming.is_some() && horizon_es.is_none() && all.iter().any(|w| w == "hoy") {
            (1, Some("hoy".to_owned()))
        } else {
            (horizon_days, horizon_es)
        };
        let intent = match intent {
            // Money to spend ("tengo 3 mil dólares, ¿en qué los invierto?"): what to buy with it.
            Intent::Help | Intent::Stock if budget_usd.is_some() => Intent::Need,
            // A product and nothing else: how much is needed.
            Intent::Help if !products.is_empty() => Intent::Need,
            other => other,
        };
        Understanding {
            intent,
            horizon_days,
            horizon_es,
            products,
            stores,
            unmatched,
            product_words: free.join(" "),
            intent_explicit,
            follow_up: false,
            alternatives,
            one_day,
            budget_usd,
            expiring: intent == Intent::Overstock && has(&format!(" {} ", all.join(" ")), EXPIRY_WORDS),
            coming: coming.filter(|_| intent == Intent::Stock),
            coming_from_supplier: coming.filter(|_| intent == Intent::Stock).and_then(|_| sender_of(&all)),
            senders: Vec::new(),
        }
    }

    /// The names among `names` (each once) that every one of a question's product words names,
    /// word for word ("polar" names Cervecería Polar and Alimentos Polar; "alimentos polar" only
    /// the latter): who sends the deliveries a question asks about by name ("¿cuándo llega el
    /// pedido de Polar?"). A word that says what a product is (the first word of a product's
    /// name: "pasta", "café", "pan") asks about that product, never about a sender: "¿cuándo llega
    /// la pasta?" is every pasta, not Pastas Capri's order.
    pub fn senders_named<'a>(&self, product_words: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let asked = words(product_words);
        if asked.is_empty() || asked.iter().any(|w| self.products.iter().any(|e| &e.head == w)) {
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for name in names {
            let own = words(name);
            if asked.iter().all(|w| own.contains(w)) && !out.iter().any(|n| n == name) {
                out.push(name.to_owned());
            }
        }
        out
    }

    /// The product of `code` as if the question had named it with `mention` at `score` (a match
    /// found another way, such as the vector memory).
    pub fn product_by_code(&self, code: &str, mention: &str, score: f64) -> Option<Found> {
        let index = self.products.iter().position(|e| e.code == code)?;
        let e = &self.products[index];
        Some(Found { index, code: e.code.clone(), name: e.name.clone(), mention: mention.to_owned(), score })
    }

    /// Of equally good matches, the best seller when it clearly outsells the others (at least twice
    /// the next): `products` keeps it alone and the rest come back as alternatives. Otherwise all of
    /// them stay, best seller first, and no alternatives.
    pub fn prefer_best_seller(&self, products: &mut Vec<Found>) -> Vec<Found> {
        products.sort_by(|a, b| self.products[b.index].popularity.total_cmp(&self.products[a.index].popularity));
        match products.as_slice() {
            [first, second, ..]
                if self.products[first.index].popularity >= 2.0 * self.products[second.index].popularity
                    && self.products[first.index].popularity > 0.0 =>
            {
                products.split_off(1)
            }
            _ => Vec::new(),
        }
    }

    /// The name of the product of `code`.
    pub fn product_name(&self, code: &str) -> Option<&str> {
        self.products.iter().find(|e| e.code == code).map(|e| e.name.as_str())
    }

    /// Sets the evening the tenant's numbers are for (horizons named by date count from it).
    pub fn set_today(&mut self, today: NaiveDate) {
        self.today = Some(today);
    }

    /// Sets how much each product sells (recent units, by code); unknown codes are ignored.
    pub fn set_popularity<'a>(&mut self, sales: impl IntoIterator<Item = (&'a str, f64)>) {
        let index: HashMap<&str, usize> = self.products.iter().enumerate().map(|(i, e)| (e.code.as_str(), i)).collect();
        let updates: Vec<(usize, f64)> =
            sales.into_iter().filter_map(|(code, units)| index.get(code).map(|&i| (i, units))).collect();
        for (i, units) in updates {
            self.products[i].popularity = units.max(0.0);
        }
    }

    /// Understands `question` as the next turn after `previous`: a follow-up ("¿y en Valencia?",
    /// "¿y para la semana?", "¿y el aceite?") keeps what it does not change from the turn before.
    pub fn understand_after(&self, question: &str, previous: Option<&Turn>) -> Understanding {
        let mut u = self.understand(question);
        let Some(prev) = previous else { return u };
        if matches!(u.intent, Intent::Confirm { .. }) || matches!(prev.intent, Intent::Confirm { .. } | Intent::Help) {
            return u;
        }
        let words = words(question);
        // The previous answer asked which of several products: an answer naming one of them
        // ("la blanca", "el de 1 litro") picks it, and the rest of the question stays.
        if prev.products.len() > 1 {
            let candidates: Vec<usize> =
                prev.products.iter().filter_map(|r| self.products.iter().position(|e| e.code == r.code)).collect();
            let free: Vec<String> = words.iter().filter(|w| !question_stopword(w)).cloned().collect();
            let chosen = self.best_among(&self.products, &self.product_df, &free, false, Some(&candidates));
            if !chosen.is_empty() && chosen.len() < candidates.len() {
                u.products = chosen;
                u.alternatives.clear();
                u.unmatched.clear();
                if !u.intent_explicit || u.intent == Intent::Need {
                    u.intent = prev.intent;
                }
                if u.stores.is_empty() {
                    u.stores = prev.stores.iter().filter_map(|r| self.found(r, &self.stores)).collect();
                }
                if u.horizon_es.is_none() {
                    u.horizon_days = prev.horizon_days;
                    u.horizon_es = prev.horizon_es.clone();
                }
                u.follow_up = true;
                return u;
            }
        }
        let starts_with_and = words.first().is_some_and(|w| w == "y" || w == "e");
        // "¿y …?" continues; so does a bare store or horizon ("en Valencia", "para la semana"). A
        // product named without "y" starts a new question.
        let only_where_or_when = u.products.is_empty() && (!u.stores.is_empty() || u.horizon_es.is_some());
        if !(starts_with_and || (!u.intent_explicit && only_where_or_when)) {
            return u;
        }
        let found = |r: &Resolved, entries: &[Entry]| self.found(r, entries);
        // "¿y las transferencias?", "¿y los pedidos?", "¿y todas?" after a question about what is
        // coming: the same question about those (not a transfer to suggest).
        let kind = |w: &str| match w {
            "transferencia" | "transferencias" | "traslado" | "traslados" => Some(Some(false)),
            "pedido" | "pedidos" | "proveedor" | "proveedores" | "orden" | "ordenes" | "compra" | "compras" => {
                Some(Some(true))
            }
            "entregas" | "todo" | "todas" | "todos" => Some(None),
            _ => None,
        };
        let said: Vec<&String> = words.iter().skip(1).filter(|w| !STOPWORDS.contains(&w.as_str())).collect();
        if starts_with_and
            && prev.coming.is_some()
            && !said.is_empty()
            && said.iter().all(|w| kind(w).is_some() || u.stores.iter().any(|s| s.mention.contains(w.as_str())))
            && said.iter().any(|w| kind(w).is_some())
        {
            u.intent = Intent::Stock;
            u.coming = prev.coming;
            u.coming_from_supplier = said.iter().find_map(|w| kind(w)).flatten();
            u.products.clear();
            u.unmatched.clear();
            u.alternatives.clear();
            if u.stores.is_empty() {
                u.stores = prev.stores.iter().filter_map(|r| found(r, &self.stores)).collect();
            }
            u.horizon_days = prev.horizon_days;
            u.horizon_es = prev.horizon_es.clone();
            u.follow_up = true;
            return u;
        }
        // Money named ("¿y con 2.000 dólares?") asks what to buy with it, whatever came before.
        if !u.intent_explicit && u.budget_usd.is_none() {
            u.intent = prev.intent;
        }
        // "¿y la deslactosada?" after Los Andes completa: among equal matches, the ones closest to
        // the product before (its brand, its size).
        if u.products.len() > 1
            && let [before] = prev.products.as_slice()
            && let Some(before) = self.products.iter().find(|e| e.code == before.code)
        {
            let shared = |f: &Found| self.products[f.index].words.iter().filter(|w| before.words.contains(w)).count();
            let most = u.products.iter().map(shared).max().unwrap_or(0);
            u.products.retain(|f| shared(f) == most);
        }
        if u.products.is_empty() && matches!(u.intent, Intent::Need | Intent::Sales | Intent::Stock) {
            u.products = prev.products.iter().filter_map(|r| found(r, &self.products)).collect();
            u.unmatched.clear();
            u.alternatives.clear();
        }
        if u.stores.is_empty() {
            u.stores = prev.stores.iter().filter_map(|r| found(r, &self.stores)).collect();
        }
        if u.horizon_es.is_none() {
            u.horizon_days = prev.horizon_days;
            u.horizon_es = prev.horizon_es.clone();
        }
        // "¿y en Valencia?" after "¿qué pido con 2.000 dólares en Chacao?": the same money.
        if u.budget_usd.is_none() && u.store_orders() {
            u.budget_usd = prev.budget_usd;
        }
        // "¿y en Valencia?" after "¿qué me llega mañana?": what comes there; "¿y los que vienen
        // esta semana?" after the late ones: what comes. A question that says what it asks
        // ("¿y cómo estoy de inventario?") keeps its own.
        if u.coming.is_none() && u.intent == Intent::Stock && u.products.is_empty() {
            u.coming = coming_of(&words);
            u.coming_from_supplier = u.coming.and_then(|_| sender_of(&words));
            if u.coming.is_none() && !u.intent_explicit {
                u.coming = prev.coming;
                u.coming_from_supplier = prev.coming_from_supplier;
            }
        }
        // "¿y las atrasadas?" after the transfers coming: the late transfers; after Polar's
        // deliveries, Polar's.
        if u.coming.is_some() && prev.coming.is_some() && sender_of(&words).is_none() {
            u.coming_from_supplier = prev.coming_from_supplier;
        }
        if u.coming.is_some() && prev.coming.is_some() && u.products.is_empty() && u.unmatched.is_empty() {
            u.senders = prev.senders.clone();
        }
        u.follow_up = true;
        u
    }

    /// Unknown words that are two catalog words written together ("cocacola" → "coca", "cola").
    fn split_compounds(&self, words: Vec<String>) -> Vec<String> {
        let known = |w: &str| w.chars().count() >= 3 && self.product_df.contains_key(w);
        let mut out = Vec::with_capacity(words.len());
        for w in words {
            let split = (!known(&w) && w.is_ascii() && w.len() >= 6)
                .then(|| (3..=w.len() - 3).find(|&k| known(&w[..k]) && known(&w[k..])))
                .flatten();
            match split {
                Some(k) => {
                    out.push(w[..k].to_owned());
                    out.push(w[k..].to_owned());
                }
                None => out.push(w),
            }
        }
        out
    }

    /// A resolved name of a previous turn, found again among `entries`.
    fn found(&self, r: &Resolved, entries: &[Entry]) -> Option<Found> {
        entries.iter().position(|e| e.code == r.code).map(|index| Found {
            index,
            code: r.code.clone(),
            name: r.name.clone(),
            mention: r.mention.clone(),
            score: r.score,
        })
    }

    /// The entries the words name best: each word scores its best match in an entry weighted by
    /// the word's rarity; entries with the top score win (several when tied).
    fn best(&self, entries: &[Entry], df: &HashMap<String, usize>, free: &[String], stores: bool) -> Vec<Found> {
        self.best_among(entries, df, free, stores, None)
    }

    /// [`Catalog::best`] among the entries `only` (all when `None`).
    fn best_among(
        &self,
        entries: &[Entry],
        df: &HashMap<String, usize>,
        free: &[String],
        stores: bool,
        only: Option<&[usize]>,
    ) -> Vec<Found> {
        if free.is_empty() || entries.is_empty() {
            return Vec::new();
        }
        let n = entries.len() as f64;
        // A word every entry shares ("la cosecha" in every store's name) names none of them.
        let weight = |w: &str| {
            let d = *df.get(w).unwrap_or(&1) as f64;
            if stores && d >= n && n > 1.0 { 0.0 } else { (1.0 + n / d).ln() }
        };
        // (score, entry, the question's words that matched, whether they include the entry's head word)
        let mut scored: Vec<(f64, usize, Vec<&str>, bool)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if only.is_some_and(|o| !o.contains(&i)) {
                continue;
            }
            let mut score = 0.0;
            let mut mention = Vec::new();
            let mut head = false;
            for q in free {
                // A word the catalog knows is read as written; only unknown words are read as
                // typos or beginnings of a catalog word ("lata" is not "nata", and the product
                // word "caraotas" is not a misspelt "Caracas").
                let known = df.contains_key(q.as_str()) || (stores && self.product_df.contains_key(q.as_str()));
                let best = e
                    .words
                    .iter()
                    .map(|w| {
                        let m = word_match(q, w);
                        // A store is named by its words, not by the start of one ("leche" is not
                        // "Lechería"): a prefix must be most of the word.
                        let short_prefix = stores && m == 0.9 && q.chars().count() * 4 < w.chars().count() * 3;
                        (if short_prefix || (known && m < 1.0) { 0.0 } else { m }, w)
                    })
                    .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.len().cmp(&a.1.len())));
                if let Some((m, w)) = best
                    && m > 0.0
                {
                    let wt = weight(w);
                    score += m * wt;
                    if wt > 0.0 {
                        mention.push(q.as_str());
                        head |= *w == e.head;
                    }
                }
            }
            if score > 0.0 && !mention.is_empty() {
                scored.push((score, i, mention, head));
            }
        }
        let Some(top) = scored.iter().map(|s| s.0).max_by(f64::total_cmp) else { return Vec::new() };
        // Share of the words that found a match in the best entry: a single weak word is not a name.
        let words_matched = scored.iter().filter(|s| s.0 >= top - 1e-9).map(|s| s.2.len()).max().unwrap_or(0);
        if top < 0.5 || (words_matched == 1 && free.len() > 3 && !stores) {
            return Vec::new();
        }
        let mut winners: Vec<&(f64, usize, Vec<&str>, bool)> = scored.iter().filter(|s| s.0 >= top - 1e-9).collect();
        // Between equal matches, a product the words name by what it is beats one they name by what
        // it comes with ("aceite": the oils, not Sardinas en aceite).
        if !stores && winners.iter().any(|w| w.3) {
            winners.retain(|w| w.3);
        }
        // Between equal matches, a name that adds words the question did not say to another's
        // loses to it ("speed stick" is Speed Stick, not Lady Speed Stick). Names that differ
        // otherwise stay tied, for the best seller or a question to settle ("harina" is not the flour
        // that happens to have the shortest name).
        let adds_to_another = |a: usize| {
            winners.iter().any(|b| {
                let (small, big) = (&entries[b.1].words, &entries[a].words);
                b.1 != a && small.len() < big.len() && small.iter().all(|w| big.contains(w))
            })
        };
        let mut winners: Vec<&(f64, usize, Vec<&str>, bool)> =
            winners.iter().filter(|w| !adds_to_another(w.1)).copied().collect();
        winners.sort_by_key(|s| s.1);
        let max_weight: f64 = free.iter().map(|w| weight(w).max(0.5)).sum();
        winners
            .into_iter()
            .map(|(score, i, mention, _)| Found {
                index: *i,
                code: entries[*i].code.clone(),
                name: entries[*i].name.clone(),
                mention: mention.join(" "),
                score: (score / max_weight.max(1e-9)).min(1.0),
            })
            .collect()
    }
}

fn has(norm: &str, any: &[&str]) -> bool {
    any.iter().any(|k| norm.contains(k))
}

/// Whether a message is a plain yes ("sí", "dale", "ok" …: `Some(true)`) or no ("no", "mejor
/// no" …: `Some(false)`) to a suggestion; `None` for anything else.
pub fn confirmation(text: &str) -> Option<bool> {
    match intent_of(&super::text::words(text)) {
        Intent::Confirm { yes } => Some(yes),
        _ => None,
    }
}

/// The intent of a normalized question.
fn intent_of(words: &[String]) -> Intent {
    let whole = words.join(" ");
    const YES: &[&str] = &[
        "si",
        "sii",
        "dale",
        "ok",
        "okey",
        "okay",
        "listo",
        "hazlo",
        "si hazlo",
        "si dale",
        "dale si",
        "de acuerdo",
        "claro",
        "claro que si",
        "va",
        "perfecto",
        "si por favor",
        "aprobado",
        "apruebo",
        "confirmo",
        "si confirmo",
        "si gracias",
        "dale pues",
        "procede",
        "si procede",
        "hagalo",
        "si hagalo",
    ];
    const NO: &[&str] =
        &["no", "no gracias", "cancela", "cancelar", "mejor no", "no hagas nada", "no por ahora", "nop"];
    if YES.contains(&whole.as_str()) {
        return Intent::Confirm { yes: true };
    }
    if NO.contains(&whole.as_str()) {
        return Intent::Confirm { yes: false };
    }
    let padded = without_time_que_viene(&format!(" {whole} "));
    if has(
        &padded,
        &[
            " que paso ",
            " que ha pasado ",
            " que me dijiste ",
            " que te pregunte ",
            " que pregunte ",
            " recuerdas ",
            " te acuerdas ",
            " que alertas hubo ",
            " alertas pasadas ",
            " historial ",
        ],
    ) {
        return Intent::Recall;
    }
    // Goods arriving or late ("¿qué transferencias me llegan mañana?", "¿qué me falta por llegar?",
    // "¿qué tengo que recibir?"), unless the question asks what to order or what will run out.
    let arriving = padded.replace(" faltan por llegar", " por llegar").replace(" falta por llegar", " por llegar");
    if has(&arriving, ARRIVAL_WORDS)
        && !has(&arriving, NEED_WORDS)
        && !has(&arriving, RUNNING_OUT_WORDS)
        && !has(&arriving, &[" venta", "vendi", " ganancia", " margen"])
    {
        return Intent::Stock;
    }
    if has(&padded, &["transfer", "traslad", " mover ", " muevo ", " movemos ", "pasar mercancia", "redistribu"]) {
        return Intent::Transfers;
    }
    if has(
        &padded,
        &[
            " vendio ",
            " vendi ",
            " vendimos ",
            "se vende",
            "se ha vendido",
            " ventas ",
            " venta ",
            "como va ",
            "como le fue",
            "como se movio",
            "vendido",
        ],
    ) {
        return Intent::Sales;
    }
    if has(&padded, EXPIRY_WORDS) {
        return Intent::Overstock;
    }
    if has(
        &padded,
        &[
            " de mas ",
            " sobra",
            "exceso",
            "sobrestock",
            "sobre stock",
            "demasiad",
            "mucho inventario",
            "inventario parado",
            "sobreinventario",
            "no rota",
            "muy lento",
        ],
    ) {
        return Intent::Overstock;
    }
    // What is on the shelf or on its way ("¿cuánta harina me queda?", "¿hay aceite en Valencia?",
    // "¿cuándo llega el pedido?"), unless the question asks what to order or what will run out.
    if has(&padded, STOCK_WORDS) && !has(&padded, ORDER_WORDS) && !has(&padded, RUNNING_OUT_WORDS) {
        return Intent::Stock;
    }
    if has(
        &padded,
        &[
            " cuant",
            "necesit",
            " pedir ",
            " pido ",
            " ordenar ",
            " orden ",
            " comprar ",
            " compro ",
            "hace falta",
            " reponer ",
            " surtir ",
        ],
    ) || (has(&padded, &[" pedido", " orden"]) && has(&padded, &[" hacer ", " hago ", " hacemos "]))
    {
        // "¿qué pedidos tengo que hacer?" too.
        return Intent::Need;
    }
    if has(&padded, RUNNING_OUT_WORDS) {
        return Intent::RunningOut;
    }
    Intent::Help
}

/// The amount of US dollars a question names: a number with "$", "US$" or "USD" before it, or
/// "dólares", "$" or "USD" after it (after "mil" when it says thousands), or following
/// "presupuesto". Thousands may be grouped Venezuelan style ("5.000", "2.500,50") or not ("5000",
/// "5,000").
pub fn budget_of(question: &str) -> Option<f64> {
    budget_in(question).map(|(usd, _, _)| usd)
}

/// [`budget_of`], with where the amount's words start among the question's [`words`] and what they are.
fn budget_in(question: &str) -> Option<(f64, usize, Vec<String>)> {
    use unicode_normalization::UnicodeNormalization;
    // Tokens: numbers with the separators inside them, "$" on its own, and words.
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = question.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect();
    let flush = |current: &mut String, tokens: &mut Vec<String>| {
        if !current.is_empty() {
            tokens.push(std::mem::take(current));
        }
    };
    for (k, &c) in chars.iter().enumerate() {
        let in_number = current.chars().next().is_some_and(|f| f.is_ascii_digit());
        let digit_next = chars.get(k + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() {
            if !in_number {
                flush(&mut current, &mut tokens);
            }
            current.push(c);
        } else if (c == '.' || c == ',') && in_number && digit_next {
            current.push(c);
        } else if c.is_alphabetic() {
            if in_number {
                flush(&mut current, &mut tokens);
            }
            current.extend(c.to_lowercase());
        } else {
            flush(&mut current, &mut tokens);
            if c == '$' {
                tokens.push("$".to_owned());
            }
        }
    }
    flush(&mut current, &mut tokens);
    const AFTER: [&str; 6] = ["$", "dolar", "dolares", "usd", "us", "verdes"];
    for (k, token) in tokens.iter().enumerate() {
        let Some(mut value) = amount(token) else { continue };
        let mut next = k + 1;
        let thousands = tokens.get(next).is_some_and(|w| w == "mil" || w == "k");
        if thousands {
            value *= 1000.0;
            next += 1;
        }
        // "para 15 días" is a horizon, even after "presupuesto".
        const HORIZON: [&str; 8] = ["dia", "dias", "semana", "semanas", "quincena", "quincenas", "mes", "meses"];
        if tokens.get(next).is_some_and(|w| HORIZON.contains(&w.as_str())) {
            continue;
        }
        let before = |n: usize| k.checked_sub(n).and_then(|j| tokens.get(j)).map(String::as_str);
        let money_before = matches!(before(1), Some("$" | "usd"));
        let budget_before = (1..=3).any(|n| before(n) == Some("presupuesto"));
        let money_after = tokens.get(next).is_some_and(|w| AFTER.contains(&w.as_str()));
        if money_before || money_after || budget_before {
            // The words before it, as `words` reads them, say where the amount's words start.
            let before: String = tokens[..k].join(" ");
            let mut said = words(token);
            if thousands {
                said.push(tokens[k + 1].clone());
            }
            return Some((value, words(&before).len(), said));
        }
    }
    None
}

/// A number as people write an amount: "5.000" and "5,000" are thousands (three digits after the
/// last separator, when it is the only kind), "2.500,50" and "2,500.50" have decimals after the last one.
fn amount(token: &str) -> Option<f64> {
    if !token.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let last = token.rfind(['.', ',']);
    let both = token.contains('.') && token.contains(',');
    let plain = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let value = match last {
        None => token.parse().ok()?,
        Some(at) => {
            let (whole, frac) = (&token[..at], &token[at + 1..]);
            let grouped = !both && frac.len() == 3;
            if grouped {
                plain(token).parse().ok()?
            } else {
                format!("{}.{}", plain(whole), plain(frac)).parse().ok()?
            }
        }
    };
    (value > 0.0 && value < 1e12).then_some(value)
}

/// Words of a question about lots that may expire (answered among what is in excess).
const EXPIRY_WORDS: &[&str] = &[" vence", " vencen", " vencer", " vencimiento", " vencid", " caduc", " expira"];

/// Words of a question about what will run out.
const RUNNING_OUT_WORDS: &[&str] =
    &["agot", " acab", "quiebre", " falta", " faltar", "sin stock", "sin inventario", "terminar", "riesgo", "se me va"];

/// Words of a question about what is on hand or on its way.
const STOCK_WORDS: &[&str] = &[
    " queda ",
    " quedan ",
    " me queda",
    " nos queda",
    " hay ",
    " tengo ",
    " tenemos ",
    " tiene ",
    " tienen ",
    " existencia",
    " inventario ",
    " stock ",
    " disponible",
    " en camino ",
    " cuando llega",
    " cuando viene",
    " que me llega",
    " que me viene",
    " que llega ",
    " que llegan ",
    " llega ",
    " llegan ",
    " atrasad",
    " retrasad",
    " no ha llegado",
    " no han llegado",
    " no llego ",
    " no llegaron ",
    " por llegar",
    " en transito",
    " recibir ",
    " recibo ",
    " recibimos ",
    " llego ",
    " llegaron ",
    " voy a recibir",
    " entregas ",
    " pedidos pendientes",
    " ordenes pendientes",
    " pedidos vienen",
    " pedidos llegan",
];

/// Words of the deliveries themselves: with these or [`ARRIVAL_WORDS`], a stock question naming no
/// product asks what is on its way (without them, the stores' stock).
const DELIVERY_WORDS: &[&str] =
    &[" viene ", " vienen ", " recib", " entrega", " despacho", " pedido", " ordenes", " proveedor"];

/// Words of a question about what is late.
const LATE_WORDS: &[&str] =
    &[" atrasad", " retrasad", " no ha llegado", " no han llegado", " no llego ", " no llegaron ", " demorad"];

/// Words of goods arriving or late, whatever else the question says (but what to order).
const ARRIVAL_WORDS: &[&str] = &[
    " llega ",
    " llegan ",
    " llego ",
    " llegaron ",
    " ha llegado",
    " han llegado",
    " por llegar",
    " en camino ",
    " en transito",
    " atrasad",
    " retrasad",
    " recibir ",
    " recibo ",
    " recibimos ",
    " que viene ",
    " que vienen ",
    " que me viene",
    " que me llega",
    " orden de compra",
    " ordenes de compra",
    " trae ",
    " traen ",
];

/// Words of a question about how much to order (arrival words do not make it one about deliveries).
const NEED_WORDS: &[&str] =
    &["necesit", " pedir ", " pido ", " ordenar ", " comprar ", " compro ", "hace falta", " reponer ", " surtir "];

/// The question without "que viene" after a time ("la semana que viene", "el lunes que viene",
/// "los días que vienen"): a horizon, not goods coming; nor is "¿cómo viene …?" (how it is going).
fn without_time_que_viene(padded: &str) -> String {
    const TIMES: &[&str] = &["semana", "semanas", "mes", "meses", "quincena", "dia", "dias", "ano"];
    let mut out = padded.replace(" como viene ", " como ").replace(" como vienen ", " como ");
    for t in TIMES.iter().chain(&WEEKDAYS) {
        out = out
            .replace(&format!(" {t} que viene "), &format!(" {t} "))
            .replace(&format!(" {t} que vienen "), &format!(" {t} "));
    }
    out
}

/// Whether a question about deliveries asks only about purchase orders (`Some(true)`) or only
/// about transfers (`Some(false)`).
fn sender_of(words: &[String]) -> Option<bool> {
    let whole = format!(" {} ", words.join(" "));
    let transfers = has(&whole, &[" transferencia", " traslad"]);
    let suppliers = has(&whole, &[" proveedor", " orden de compra", " ordenes de compra"]);
    match (suppliers, transfers) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// What a stock question asks about the goods on their way.
fn coming_of(words: &[String]) -> Option<Coming> {
    let whole = without_time_que_viene(&format!(" {} ", words.join(" ")));
    if has(&whole, LATE_WORDS) {
        Some(Coming::Late)
    } else if has(&whole, ARRIVAL_WORDS) || has(&whole, DELIVERY_WORDS) {
        Some(Coming::Due)
    } else {
        None
    }
}

/// Words of a question about what to order (they make a stock question one of need).
const ORDER_WORDS: &[&str] = &[
    "necesit",
    " pedir ",
    " pido ",
    " ordenar ",
    " comprar ",
    " compro ",
    "hace falta",
    " reponer ",
    " surtir ",
    " tengo que ",
    " tenemos que ",
    " hay que ",
    " orden ",
    "encarg",
    " pedimos ",
    "pedirle",
];

/// Words of a look back that are not product words.
const RECALL_WORDS: &[&str] = &[
    "paso",
    "pasado",
    "pasada",
    "pasadas",
    "pasados",
    "semana",
    "semanas",
    "mes",
    "ayer",
    "dijiste",
    "pregunte",
    "recuerdas",
    "acuerdas",
    "alertas",
    "alerta",
    "hubo",
    "historial",
    "antier",
    "anteayer",
];

/// Days a look back covers: yesterday 3, last week 14, last month 62, otherwise 30.
fn lookback_of(words: &[String]) -> u32 {
    let whole = format!(" {} ", words.join(" "));
    if has(&whole, &[" ayer ", " antier ", " anteayer ", " hoy "]) {
        3
    } else if has(&whole, &[" semana pasada ", " ultima semana ", " esta semana "]) {
        14
    } else if has(&whole, &[" mes pasado ", " ultimo mes ", " este mes "]) {
        62
    } else {
        30
    }
}

/// The horizon a question names (days, and the words), or a week.
/// Days the forecasts reach: a longer horizon is cut to it (and the answer says how many days).
pub const MAX_HORIZON_DAYS: u32 = 42;

/// The horizon a question names, cut to what the forecasts reach.
fn horizon_of(words: &[String], today: Option<NaiveDate>) -> (u32, Option<String>) {
    let (days, named) = named_horizon(words, today);
    if days > MAX_HORIZON_DAYS { (MAX_HORIZON_DAYS, None) } else { (days.max(1), named) }
}

/// Weekdays as questions write them (accents removed), Monday first.
const WEEKDAYS: [&str; 7] = ["lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"];
/// The same, written properly.
const WEEKDAYS_ES: [&str; 7] = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"];

const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

fn named_horizon(words: &[String], today: Option<NaiveDate>) -> (u32, Option<String>) {
    let number = |w: &str| -> Option<u32> {
        w.parse().ok().or(match w {
            "un" | "una" | "uno" => Some(1),
            "dos" => Some(2),
            "tres" => Some(3),
            "cuatro" => Some(4),
            "cinco" => Some(5),
            "seis" => Some(6),
            "siete" => Some(7),
            "diez" => Some(10),
            "quince" => Some(15),
            "veinte" => Some(20),
            "treinta" => Some(30),
            _ => None,
        })
    };
    for (k, w) in words.iter().enumerate() {
        let before = k.checked_sub(1).and_then(|j| number(&words[j]));
        let phrase = |unit: &str| match before {
            Some(_) => format!("{} {unit}", words[k - 1]),
            None => format!("la {unit}"),
        };
        match w.as_str() {
            "quincena" | "quincenas" => {
                return (15 * before.unwrap_or(1).clamp(1, 4), Some(phrase(w)));
            }
            "semana" | "semanas" => return (7 * before.unwrap_or(1).clamp(1, 8), Some(phrase(w))),
            "mes" | "meses" => {
                let n = before.unwrap_or(1).clamp(1, 2);
                return (30 * n, Some(if before.is_some() { phrase(w) } else { "el mes".into() }));
            }
            "dia" | "dias" if before.is_some() => {
                let n = before.unwrap_or(1).clamp(1, 56);
                return (n, Some(phrase(w)));
            }
            "pasado" if words.get(k + 1).is_some_and(|x| x == "manana") => return (2, Some("pasado mañana".into())),
            // A weekday ("el viernes"): from tomorrow through the next one.
            day if today.is_some() && WEEKDAYS.contains(&day) => {
                let Some(today) = today else { continue };
                let target = WEEKDAYS.iter().position(|x| *x == day).unwrap_or(0) as i64;
                let from = i64::from(today.weekday().num_days_from_monday());
                let ahead = (target - from).rem_euclid(7);
                let ahead = if ahead == 0 { 7 } else { ahead };
                return (u32::try_from(ahead).unwrap_or(7), Some(format!("el {}", WEEKDAYS_ES[target as usize])));
            }
            // "mañana" is tomorrow, unless it is the morning ("en la mañana", "por la mañana").
            "manana" if k == 0 || words[k - 1] != "la" => return (1, Some("mañana".into())),
            // From tomorrow through the coming Sunday (at least the weekend's two days).
            "fin" if words.get(k + 1).is_some_and(|x| x == "de") && words.get(k + 2).is_some_and(|x| x == "semana") => {
                let Some(today) = today else { continue };
                let to_sunday = 7 - today.weekday().number_from_monday();
                return (to_sunday.max(2), Some("el fin de semana".into()));
            }
            // "para llegar a fin de mes": from tomorrow through this month's last day.
            "fin" if words.get(k + 1).is_some_and(|x| x == "de") && words.get(k + 2).is_some_and(|x| x == "mes") => {
                let Some(today) = today else { continue };
                let next = if today.month() == 12 { (today.year() + 1, 1) } else { (today.year(), today.month() + 1) };
                let Some(first_after) = NaiveDate::from_ymd_opt(next.0, next.1, 1) else { continue };
                let days = (first_after - today).num_days() - 1;
                return (u32::try_from(days).unwrap_or(0).max(1), Some("fin de mes".into()));
            }
            // A month by name ("para diciembre"): from tomorrow through its last day (this month
            // or the next ones). Only after a preposition: "mayo" alone is mayonnaise.
            month
                if today.is_some()
                    && MONTHS.contains(&month)
                    && k.checked_sub(1)
                        .is_some_and(|j| ["para", "en", "de", "hasta", "todo"].contains(&words[j].as_str())) =>
            {
                let Some(today) = today else { continue };
                let m = MONTHS.iter().position(|x| *x == month).unwrap_or(0) as u32 + 1;
                let year = if m >= today.month() { today.year() } else { today.year() + 1 };
                let next = if m == 12 { (year + 1, 1) } else { (year, m + 1) };
                let Some(first_after) = NaiveDate::from_ymd_opt(next.0, next.1, 1) else { continue };
                let days = (first_after - today).num_days() - 1;
                return (u32::try_from(days).unwrap_or(0).max(1), Some(month.to_owned()));
            }
            _ => {}
        }
    }
    // A week unless the question says otherwise.
    (7, None)
}

#[cfg(test)]
mod tests;

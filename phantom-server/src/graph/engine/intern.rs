//! Interned identifiers.
//!
//! Type, relation and condition names are few; they become [`Sym`]s through [`Names`].
//! Object names (`type:id`) are many; [`Objects`] stores them back to back in one arena with
//! a 4-byte offset each and a hash table of ids, so an object costs its bytes plus about
//! twelve, instead of a `String` (24 bytes plus a heap block) in a map and a vector.

use hashbrown::HashTable;
use rustc_hash::FxHashMap;

/// An interned type, relation or condition name.
pub type Sym = u32;

/// An interned object (`type:id`, including wildcards `type:*`).
pub type ObjId = u32;

/// "No relation": the subject of a tuple is a plain object or wildcard, not a userset.
pub const NO_REL: Sym = u32::MAX;

/// FNV-1a over the bytes, then MurmurHash3's finaliser: object names differ in a few trailing
/// digits, and the table picks buckets by the low bits and filters by the top seven, so every
/// bit of the result must depend on every byte.
fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Type, relation and condition names.
#[derive(Clone, Debug, Default)]
pub struct Names {
    ids: FxHashMap<Box<str>, Sym>,
    names: Vec<Box<str>>,
}

impl Names {
    /// The symbol of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> Sym {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = Sym::try_from(self.names.len()).unwrap_or(NO_REL - 1);
        self.ids.insert(name.into(), id);
        self.names.push(name.into());
        id
    }

    /// The symbol of `name`, if known.
    pub fn get(&self, name: &str) -> Option<Sym> {
        self.ids.get(name).copied()
    }

    /// The name of a symbol.
    pub fn name(&self, sym: Sym) -> &str {
        self.names.get(sym as usize).map_or("", |n| n)
    }

    /// How many symbols exist.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.names.iter().map(|n| n.len() * 2 + 40).sum::<usize>() + self.names.capacity() * 16
    }
}

/// Object names in an arena.
#[derive(Default)]
pub struct Objects {
    arena: String,
    /// `ends[i]` is where object `i`'s name ends in the arena; it starts where `i - 1` ends.
    ends: Vec<u32>,
    table: HashTable<ObjId>,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("len", &self.ends.len())
            .finish()
    }
}

impl Objects {
    /// The name of object `id`.
    pub fn name(&self, id: ObjId) -> &str {
        let i = id as usize;
        let end = self.ends.get(i).copied().unwrap_or(0) as usize;
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0) as usize
        };
        self.arena.get(start..end).unwrap_or("")
    }

    /// The id of `name`, if interned.
    pub fn get(&self, name: &str) -> Option<ObjId> {
        let hash = hash_str(name);
        self.table.find(hash, |&id| self.name(id) == name).copied()
    }

    /// The id of `name`, adding it if new. `None` when the arena is full (4 GiB of names).
    pub fn intern(&mut self, name: &str) -> Option<ObjId> {
        if let Some(id) = self.get(name) {
            return Some(id);
        }
        let id = ObjId::try_from(self.ends.len())
            .ok()
            .filter(|id| *id < NO_REL)?;
        let end = u32::try_from(self.arena.len() + name.len()).ok()?;
        self.arena.push_str(name);
        self.ends.push(end);
        let hash = hash_str(name);
        let Self { arena, ends, table } = self;
        table.insert_unique(hash, id, |&other| {
            let i = other as usize;
            let end = ends.get(i).copied().unwrap_or(0) as usize;
            let start = if i == 0 {
                0
            } else {
                ends.get(i - 1).copied().unwrap_or(0) as usize
            };
            hash_str(arena.get(start..end).unwrap_or(""))
        });
        Some(id)
    }

    /// How many objects are interned.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.ends.capacity() * 4 + self.table.capacity() * 5
    }
}

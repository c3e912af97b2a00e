//! Layer attribution for packages recorded in a shared database file.

use std::collections::BTreeMap;

use cordon_image::Rootfs;

/// Finds, for each package key listed in the current content of the database file
/// `path`, the layer that added it.
///
/// `keys` extracts the package keys (name, version and so on) from one version of the
/// file. The versions are scanned oldest first, and a key is attributed to the first layer
/// of its last unbroken run of versions that list it. This is the first layer that lists
/// the package at its current version, unless a later layer removed the package and
/// another one installed it again. Keys missing from the map had no retained history.
pub(crate) fn added_in<K, F>(rootfs: &Rootfs, path: &str, keys: F) -> BTreeMap<K, usize>
where
    K: Ord + Clone,
    F: Fn(&[u8]) -> Vec<K>,
{
    let mut since: BTreeMap<K, usize> = BTreeMap::new();
    for (layer, content) in rootfs.versions(path) {
        let mut present: BTreeMap<K, usize> = BTreeMap::new();
        for key in keys(content) {
            let start = since.get(&key).copied().unwrap_or(*layer);
            present.insert(key, start);
        }
        since = present;
    }
    since
}

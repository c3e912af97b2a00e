//! Name lists the rules match against.

/// Domain suffixes of public cryptocurrency mining pools.
pub const POOL_SUFFIXES: &[&str] = &[
    "minexmr.com",
    "supportxmr.com",
    "nanopool.org",
    "2miners.com",
    "hashvault.pro",
    "moneroocean.stream",
    "unmineable.com",
    "ethermine.org",
    "f2pool.com",
    "antpool.com",
    "slushpool.com",
    "braiins.com",
    "nicehash.com",
    "herominers.com",
    "miningpoolhub.com",
    "c3pool.com",
    "xmrpool.eu",
    "minergate.com",
    "dwarfpool.com",
    "viabtc.com",
    "poolin.com",
    "kryptex.network",
    "zpool.ca",
    "mining-dutch.nl",
];

/// Leftmost labels that mining-pool hosts commonly use.
pub const POOL_LABELS: &[&str] = &[
    "xmr", "pool", "stratum", "mine", "mining", "xmr-eu", "xmr-us",
];

/// Words in a domain that together with a pool label point at mining.
pub const POOL_WORDS: &[&str] = &["pool", "mining", "miner", "xmr", "monero", "crypto", "hash"];

/// Executable names of common miners.
pub const MINER_PROGRAMS: &[&str] = &[
    "xmrig",
    "xmr-stak",
    "xmr-stak-rx",
    "minerd",
    "cpuminer",
    "ccminer",
    "t-rex",
    "lolminer",
    "nbminer",
    "srbminer",
    "srbminer-multi",
    "ethminer",
    "phoenixminer",
    "nanominer",
    "gminer",
    "kdevtmpfsi",
    "kinsing",
];

/// Command-line fragments miners take.
pub const MINER_ARGS: &[&str] = &[
    "stratum+tcp://",
    "stratum+ssl://",
    "stratum2+tcp://",
    "stratum+tls://",
    "--donate-level",
    "-a randomx",
    "--algo=",
    "--coin=",
    "--cpu-max-threads-hint",
    "--randomx",
];

/// TCP ports that mining pools commonly listen on.
pub const MINER_PORTS: &[u16] = &[
    3333, 3334, 3335, 3336, 3357, 4444, 5555, 5556, 5588, 5730, 6099, 6666, 7777, 7778, 8333, 8888,
    8899, 9332, 9999, 14433, 14444, 45560, 45700,
];

/// Tor relay, directory and SOCKS ports.
pub const TOR_PORTS: &[u16] = &[9001, 9030, 9050, 9051, 9150];

/// Internet-wide scanning and host-search services.
pub const RECON_DOMAINS: &[&str] = &[
    "shodan.io",
    "censys.io",
    "zoomeye.org",
    "fofa.info",
    "fofa.so",
    "binaryedge.io",
    "onyphe.io",
    "greynoise.io",
    "hunter.how",
];

/// Services that return the caller's public address.
pub const PUBLIC_IP_DOMAINS: &[&str] = &[
    "ifconfig.me",
    "ifconfig.co",
    "ipinfo.io",
    "ipify.org",
    "icanhazip.com",
    "checkip.amazonaws.com",
    "ip-api.com",
    "ipecho.net",
    "myexternalip.com",
    "wtfismyip.com",
    "ident.me",
    "checkip.dyndns.org",
    "api.myip.com",
];

/// Shells that a reverse shell runs.
pub const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"];

/// Files that hold credentials or secrets.
pub const SECRET_PATHS: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/.ssh/id_rsa",
    "/.ssh/id_ed25519",
    "/.ssh/id_ecdsa",
    "/.aws/credentials",
    "/.docker/config.json",
    "/.kube/config",
    "/var/run/secrets/kubernetes.io/serviceaccount/token",
    "/.git-credentials",
    "/.netrc",
];

/// Programs that scan networks.
pub const SCANNERS: &[&str] = &["nmap", "masscan", "zmap", "zgrab", "pnscan", "rustscan"];

/// Cloud instance-metadata addresses.
pub const METADATA_ADDRESSES: &[&str] = &["169.254.169.254", "fd00:ec2::254", "100.100.100.200"];

/// Names of instance-metadata services.
pub const METADATA_NAMES: &[&str] = &["metadata.google.internal", "metadata.azure.com"];

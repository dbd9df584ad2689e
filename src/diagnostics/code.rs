//! The registry of diagnostic codes: one row per code, never renumbered. `casa-build explain
//! CODE` prints a row; a test checks every code is used by a rule and covered by a bad input.
//!
//! Ranges, so that codes added side by side never collide: CB001-CB009 loading the files,
//! CB010-CB049 the rules of the first site model (network, storage, nodes, instances,
//! secrets), CB050-CB059 the build stages after `check` (render, schemas, references, the
//! tree), CB060-CB079 components and their alternatives, CB080-CB099 rules encoding what the
//! consuming controllers accept, CB100-CB119 limits and grammars of hostile or careless
//! input, CB120-CB139 findings of the danger review, CB140-CB149 trouble with the environment
//! rather than the site ([`Code::is_environment`]: exit 3, covered by `tests/cli/corpus.rs`
//! since a bad-input case is a complete site).

use super::Severity;

/// Whether a code is reported by the build stages after `check` (render, schemas,
/// references, the tree) rather than by `check` itself.
pub fn is_build_stage(code: &str) -> bool {
    ("CB050"..="CB059").contains(&code) || BUILD_STAGE_RULES.contains(&code)
}

/// Rules of CB080-CB099 that read the rendered objects (the build stage) rather than the
/// site, tested by pipeline and CLI cases instead of the bad-input corpus.
const BUILD_STAGE_RULES: &[&str] = &["CB080", "CB081"];

/// A stable diagnostic code such as `CB012`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub &'static str);

/// What a code means, for `explain` and for the JSON report.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: Code,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
}

impl Code {
    pub fn info(self) -> &'static CodeInfo {
        CODES
            .iter()
            .find(|c| c.code == self)
            // SAFETY: codes are only built from the constants below, each of which has a row;
            // `every_constant_is_registered` checks it.
            .expect("diagnostic code is registered")
    }

    pub fn lookup(text: &str) -> Option<&'static CodeInfo> {
        CODES.iter().find(|c| c.code.0.eq_ignore_ascii_case(text))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! codes {
    ($($konst:ident = $code:literal, $name:literal, $sev:ident, $summary:literal, $why:literal, $fix:literal;)*) => {
        $(pub const $konst: Code = Code($code);)*
        /// Every code, in numeric order.
        pub static CODES: &[CodeInfo] = &[
            $(CodeInfo { code: $konst, name: $name, severity: Severity::$sev, summary: $summary, why: $why, fix: $fix },)*
        ];
    };
}

codes! {
    TOML_SYNTAX = "CB001", "toml-syntax", Error,
        "the file is not valid TOML (or not UTF-8 text)",
        "nothing else in a file can be checked until it parses",
        "fix the syntax at the location shown; strings need quotes, tables `[name]`, arrays of tables `[[name]]`";
    UNKNOWN_KEY = "CB002", "unknown-key", Error,
        "a key the site format does not know",
        "a misspelt key would otherwise be ignored silently and its setting lost",
        "check the spelling against schemas/site.schema.json or schemas/instance.schema.json (editors complete keys from the `#:schema` line)";
    INVALID_VALUE = "CB003", "invalid-value", Error,
        "a value of the wrong type or grammar (CIDR, IP, hostname, quantity, image, ...)",
        "typed values are what lets every later rule reason about the site",
        "write the value in the form the message names";
    MISSING_FIELD = "CB004", "missing-field", Error,
        "a required key is absent",
        "required keys have no safe default for a real facility",
        "add the key named in the message to the table shown";
    PLAINTEXT_SECRET = "CB005", "plaintext-secret", Error,
        "a plain value where only a sealed secret is allowed",
        "a plaintext secret committed to git is a leaked secret; the site holds only ciphertext",
        "remove the value and seal it: `casa-build secrets list` names the location, then `casa-build seal LOCATION` reads the value from standard input";
    KUBERNETES_VERSION = "CB006", "kubernetes-version", Error,
        "`kubernetes_version` is not <major>.<minor>[.<patch>], or no schemas cover that release",
        "every object is checked against the built-in schemas of the cluster's minor release; without them nothing could be checked, and build would refuse what check accepted",
        "write the release as <major>.<minor> (`1.33`) and target one the schemas cover (the embedded catalog: 1.33 to 1.37), or add its schemas (k8s/v<major>.<minor>.0-standalone-strict/) with --schemas DIR, CASA_SCHEMAS or [site] schemas";
    DUPLICATE_NODE = "CB010", "duplicate-node", Error,
        "two nodes share a name or an address",
        "node names are Kubernetes node names and addresses are unique on a network",
        "rename or renumber one of the nodes";
    NODE_IN_CLUSTER_CIDR = "CB011", "node-in-cluster-cidr", Error,
        "a node address (or the control-plane VIP) lies inside the pod or service CIDR or a MetalLB pool",
        "traffic to that node would be routed into the cluster overlay instead, or MetalLB would give its address to a Service",
        "move the node address, or the cluster CIDR or pool, so they are disjoint";
    CIDR_OVERLAP = "CB012", "cidr-overlap", Error,
        "two address ranges that must be disjoint overlap",
        "pod, service, node, Calico IP pool and MetalLB ranges are routed differently; an overlap blackholes traffic",
        "shrink or move one of the ranges";
    ASN_RANGE = "CB013", "asn-range", Error,
        "an AS number outside 1..=4294967295",
        "BGP sessions with such an ASN are refused",
        "use a private ASN (64512-65534, 4200000000-4294967294) or the one your network team assigned";
    PEER_OFF_SUBNET = "CB014", "bgp-peer-off-subnet", Error,
        "a BGP peer address outside the node network",
        "Calico peers directly connected top-of-rack switches; a peer off the subnet is unreachable without multihop",
        "use the switch address on the node subnet";
    DUPLICATE_PEER = "CB015", "duplicate-bgp-peer", Error,
        "two BGP peers share a name or an address",
        "one session per peer; a duplicate resource would flap",
        "remove one of the entries";
    LB_IP_OUTSIDE_POOL = "CB016", "lb-ip-outside-pool", Error,
        "a LoadBalancer address (Traefik, an instance service) lies in no MetalLB pool",
        "MetalLB only assigns addresses from its pools; the Service would stay pending",
        "pick an address inside one of the pools in [[metallb.pool]]";
    DOUBLE_ADVERTISED = "CB017", "double-advertised", Error,
        "the same range is advertised by both Calico and MetalLB, or MetalLB speaks BGP beside Calico",
        "both want the one BGP session per node pair; routes flap or conflict",
        "let Calico advertise the range (`advertise = \"calico\"`) and keep MetalLB to address allocation";
    DUPLICATE_LB_IP = "CB018", "duplicate-lb-ip", Error,
        "two services ask for the same LoadBalancer address",
        "MetalLB gives an address to one Service unless sharing is configured",
        "give each service its own address";
    UNKNOWN_OSD_DEVICE = "CB020", "unknown-osd-device", Error,
        "an OSD device the node does not have",
        "Rook would fail to create the OSD and the cluster would be smaller than planned",
        "list a device id from the node's `nvme` devices";
    OSD_DEVICE_REUSED = "CB021", "osd-device-reused", Error,
        "a device is listed twice as an OSD",
        "a drive can hold one set of OSDs",
        "remove the duplicate entry";
    REPLICA_EXCEEDS_HOSTS = "CB022", "replica-exceeds-hosts", Error,
        "fewer OSD hosts than the pool's replica size with failure domain host",
        "each replica must sit on a different host; the pool could never become healthy",
        "lower the replica size or add OSD hosts";
    OSDS_PER_DEVICE = "CB023", "osds-per-device", Error,
        "OSDs per device outside 1..=8",
        "Rook splits a device into that many OSDs; more than 8 exhausts memory and CPU per drive",
        "use a value from 1 to 8 (5 suits 3.2 TB NVMe drives)";
    CONTROL_PLANE_QUORUM = "CB024", "control-plane-quorum", Error,
        "fewer than 3 (error) or an even number (warning) of control-plane/etcd nodes",
        "etcd needs a majority: 1 or 2 members tolerate no failure, an even count adds no tolerance",
        "run 3 or 5 control-plane nodes";
    GPU_UNAVAILABLE = "CB025", "gpu-unavailable", Error,
        "Triton asks for a GPU model or count that no node has",
        "the pod would stay Pending",
        "ask for a model and count one GPU node offers";
    CAPACITY_MISMATCH = "CB026", "capacity-mismatch", Warning,
        "the computed usable Ceph capacity is far from the declared one",
        "a declared figure that disagrees with the hardware usually means a typo in devices or replicas",
        "check the OSD devices, replica size and `expected_usable`";
    UNKNOWN_NODE = "CB027", "unknown-node", Error,
        "a reference to a node that is not defined",
        "the setting would apply to nothing",
        "use a node name defined by [[node]] or [[node_range]]";
    IP_POOL_BLOCKS = "CB028", "ip-pool-blocks", Error,
        "a Calico IP pool with a block size outside 20..=32 or fewer blocks than nodes",
        "every node needs at least one block; Calico refuses other sizes",
        "use a larger pool or a larger block size";
    DUPLICATE_INSTANCE = "CB030", "duplicate-instance", Error,
        "two instances share a name, hostname or namespace",
        "one namespace and one DNS name per JupyterHub",
        "rename one of the instances";
    UNKNOWN_CONNECTOR = "CB031", "unknown-connector", Error,
        "an instance's auth provider is not a Dex connector",
        "users could not log in",
        "add a [[dex.connector]] with that id, or use an existing one";
    DEX_CLIENT = "CB032", "dex-client", Error,
        "an instance has no Dex static client with redirect URI https://<host>/hub/oauth_callback",
        "Dex refuses a login whose redirect URI is not registered for the client",
        "add a [[dex.static_client]] for the instance with that redirect URI";
    UNPINNED_IMAGE = "CB033", "unpinned-image", Error,
        "an image without a tag, or tagged `latest`, in a production instance",
        "an unpinned image changes under users without a commit",
        "pin a version tag or a digest";
    UNKNOWN_CVMFS_REPO = "CB034", "unknown-cvmfs-repository", Error,
        "an instance mounts a CVMFS repository the site does not configure",
        "the mount would be empty",
        "add the repository to [cvmfs] repositories or drop the mount";
    INVALID_NAME = "CB035", "invalid-name", Error,
        "a Kubernetes name or label value that the API server would refuse",
        "names are DNS-1123 labels or subdomains; label values at most 63 characters of [A-Za-z0-9._-]",
        "use lower-case letters, digits and '-', starting and ending with an alphanumeric";
    CHART_MISSING = "CB036", "chart-missing", Error,
        "a component needs a Helm chart the site does not pin",
        "an unpinned chart would float to whatever the repository serves; the build cannot render the release",
        "add [charts.<name>] with repository and version";
    GPU_COMPUTE_CAPABILITY = "CB037", "gpu-compute-capability", Error,
        "Triton's image needs a newer GPU than the nodes it may run on",
        "NGC Triton 25.02 and later need compute capability 7.5; 22.08 needs 6.0; on an older card the server does not start",
        "pin a Triton release that supports the card (22.08 = Triton 2.25.0 for P100/V100S) or select newer GPUs";
    COMPONENT_REQUIREMENT = "CB038", "component-requirement", Error,
        "a component the site runs needs another that it does not run",
        "the component's objects would wait forever for what is missing (a bucket with no object store, a login with no issuer), or fail as a template error far from the cause",
        "enable a component that provides it (the message names them), or change the setting that needs it";
    SECRET_MISSING = "CB040", "secret-missing", Error,
        "a secret the site needs has no sealed value",
        "the component would start without its credential",
        "seal it: `casa-build seal LOCATION` (see `casa-build secrets list`)";
    SECRET_MISMATCH = "CB041", "secret-mismatch", Error,
        "a sealed value was sealed for another namespace, name, key or scope than where it now goes",
        "the controller derives the decryption label from namespace and name; it would refuse the value",
        "re-seal the value for its new place with `casa-build seal LOCATION`";
    SEALED_MALFORMED = "CB042", "sealed-malformed", Error,
        "a sealed value that is not a well-formed Sealed Secrets ciphertext",
        "the controller would refuse it (bad base64, truncated)",
        "re-seal the value with `casa-build seal LOCATION`";
    SEALING_CERT = "CB043", "sealing-cert", Error,
        "the site's sealing certificate is missing, unreadable, not an RSA certificate, too weak, expired (errors) or expiring within 30 days (warning)",
        "values sealed with it may not be what the controller can open, and `seal` refuses it",
        "fetch the controller's current certificate: `kubeseal --fetch-cert > <[sealing] cert>`, then re-seal what was sealed with the old one";
    TEMPLATE_ERROR = "CB050", "template-error", Error,
        "a template failed to render or did not produce valid YAML objects",
        "generated output must be complete and parse",
        "fix the template named in the message (a site's own templates/ override the built-in ones)";
    DUPLICATE_OBJECT = "CB051", "duplicate-object", Error,
        "two generated objects share group, kind, namespace and name",
        "one would silently overwrite the other when applied",
        "rename one of the sources that produce them";
    SCHEMA_VIOLATION = "CB052", "schema-violation", Error,
        "a generated object does not match its schema",
        "the API server (or Helm for chart values) would refuse it",
        "fix the site value that produced the field, or the template";
    UNKNOWN_KIND = "CB053", "unknown-kind", Error,
        "a generated kind has no schema at the schema location",
        "an object that cannot be checked may not be served by the cluster at all",
        "add the schema, or list the kind under [site] allowed_kinds";
    BROKEN_REFERENCE = "CB054", "broken-reference", Error,
        "a reference between generated objects does not resolve (Flux path, dependsOn, source, Secret)",
        "Flux would stall on it in the cluster",
        "fix the reference or declare the Secret external";
    OBJECT_FILE_NAME = "CB055", "object-file-name", Error,
        "a generated object's name cannot be a file name of out/ (it holds '/', is '.' or '..', starts with '.', holds a control character, or is too long)",
        "out/ holds one file per object, named after its kind and name; such a name would write outside its folder, or be refused by the API server (names are path segments)",
        "fix the template that produced the object (a site's own templates/ override the built-in ones) so that the name is a DNS name";
    FILE_NAME_CLASH = "CB056", "file-name-clash", Error,
        "two generated objects of one Flux unit would be written to the same file of out/",
        "the file name is `<kind>-<name>.yaml`: objects of one kind and name in two namespaces, or of two API groups, would overwrite each other and one would vanish from the tree",
        "rename one of them, or render them into different units";
    OUT_REFUSED = "CB057", "out-refused", Error,
        "the output folder is not one casa-build may replace",
        "`build` replaces the folder whole: pointed at the site folder, a git checkout or a folder of other files it would delete them",
        "give --out a new folder, or a folder casa-build wrote (it holds a `.casa-build-tree` file); never the site folder, an ancestor of it, a path inside .git, a link or a file";
    ALTERNATIVES_CONFLICT = "CB060", "alternatives-conflict", Error,
        "two alternatives of one choice are both given (two ingresses, Calico and Cilium, two logins for one hub, two sources for one volume, ...)",
        "the site can run one of them; rendering both would make two controllers fight over the same objects, or leave it to chance which one a template uses",
        "keep the one the facility runs and remove the other";
    SETTING_REQUIRED = "CB061", "setting-required", Error,
        "a component or mode the site chose needs a setting the site does not give (a hub with no login, Tier-2 Dask without its addresses, Cilium without the cluster's CIDRs, ...)",
        "the objects would be rendered without a value they cannot work without",
        "add the setting the message names, or choose another alternative";
    TENANT_CLUSTER_SCOPED = "CB062", "tenant-cluster-scoped", Error,
        "a tenant site's tree holds a cluster-scoped object (a CRD, a ClusterRole, a StorageClass, a Calico or Cilium resource, a Namespace it may not create), or installs a chart that makes them",
        "a tenant owns only its namespaces: the apply is refused and Flux stalls on the whole unit",
        "leave the component out (the cluster's owner runs it; declare it in [site] cluster_provides), or set the chart value the message names";
    TENANT_NAMESPACE = "CB063", "tenant-namespace", Error,
        "a tenant site's tree puts an object in a namespace the tenant does not own",
        "the tenant's ServiceAccount may not write there; the apply is refused",
        "move the object (an instance's namespace, a component's) into one of [tenant] namespaces, or add the namespace there if the cluster's owner gave it";
    LIMIT_BELOW_GUARANTEE = "CB064", "limit-below-guarantee", Error,
        "a session's CPU or memory limit is below its guarantee",
        "Kubernetes refuses a pod whose limit is below its request: the spawn fails",
        "raise the limit to at least the guarantee, or lower the guarantee";
    GPU_PROFILE_UNAVAILABLE = "CB065", "gpu-profile-unavailable", Error,
        "a profile asks for GPUs no node offers: a product no node has, a MIG profile or time-sliced share no node of that product is set up for, or more whole GPUs than one node holds",
        "the session would stay Pending until the spawner gives up",
        "ask for a product, slice or count a GPU node of the site offers (the message lists them), or describe the node's GPUs";
    GPU_NODE = "CB066", "gpu-node", Error,
        "a node is described inconsistently as a GPU node: the `gpu` role with no `gpus`, or time-slicing with fewer than 2 shares",
        "GPU sessions and Triton are scheduled by the GPUs the site describes; a GPU node without them is never chosen, and one share is no sharing",
        "list the node's `gpus` (model as GPU feature discovery labels it, count, compute capability), or drop the `gpu` role; give time_slicing 2 or more";
    TRAEFIK_PROVIDER_RBAC = "CB080", "traefik-provider-rbac", Error,
        "a Traefik of the tree runs the kubernetescrd provider without RBAC to list and watch everything the provider watches",
        "the provider serves no route until all its caches sync; a forbidden list blocks it forever while /ping stays healthy (traefik v3.7 pkg/provider/kubernetes/crd/client.go WatchAll)",
        "grant list and watch on the resources named (traefik.io routes, middlewares, transports, TLS options and stores, TraefikServices; services, endpointslices, configmaps, secrets) in each watched namespace, and add --providers.kubernetescrd.disableClusterScopeResources=true or a ClusterRole for nodes";
    DASK_NETWORK_POLICY = "CB081", "dask-network-policy", Error,
        "z2jh's user-pod NetworkPolicy would block a path the site declares (Tier-2 Dask workers in, dask-gateway or Triton out)",
        "the policy is on by default, admits only the notebook port and no private addresses; the user's Dask cluster or inference call would time out",
        "add the singleuser.networkPolicy ingress/egress rule named in the message (templates/jupyterhub/helmrelease.yaml.j2 writes them), or disable the policy on purpose";
    XCACHE_TOKEN_LIFETIME = "CB086", "xcache-token-lifetime", Error,
        "an instance's XCache tokens (`[xcache] token_days`) outlive what the XCache servers accept (`[xcache] max_token_days`, their macaroons.maxduration, 1 day unless set)",
        "XrdMacaroons refuses a macaroon whose expiry lies beyond its maximum duration (xrootd v6.1.0 XrdMacaroonsAuthz.cc verify_before); every read through the cache would fail",
        "shorten the instance's token_days, or set the site's max_token_days to the servers' macaroons.maxduration in days";
    TRITON_NOT_SERVED = "CB087", "triton-not-served", Error,
        "an instance gives its users Triton (`[inference] triton = true`) but the site runs no Triton",
        "the spawn hook reads Triton's bucket keys at every spawn; without the service every spawn fails",
        "add [triton] to site.toml, or remove `triton = true` from the instance";
    DASK_GATEWAY_IMAGE = "CB088", "dask-gateway-image", Error,
        "an instance runs Dask through dask-gateway (`[dask] mode = \"gateway\"`) with no image declared to carry dask-gateway (`[dask.gateway] image`)",
        "dask-gateway preloads `dask_gateway.scheduler_preload` in every scheduler and needs its package in the image (dask-gateway 2026.3.0 docs/source/install-kube.rst); the coffea-casa worker images have none, so no cluster would start",
        "declare `[dask.gateway] image` (an image with dask-gateway) and `dask_gateway` (its version), or scale out through HTCondor: mode = \"pool\" or \"tier2\"";
    DASK_GATEWAY_VERSION = "CB089", "dask-gateway-version", Error,
        "the dask-gateway version of an instance's gateway image (`[dask.gateway] dask_gateway`) differs from the pinned chart (`[charts.dask-gateway] version`)",
        "the image's scheduler preload and workers talk to the chart's gateway server, which supports its own version (install-kube.rst: \"the same version as deployed on the dask-gateway-server\")",
        "use an image with the chart's dask-gateway version, or pin the chart to the image's";
    KUBERNETES_SUPPORT = "CB090", "kubernetes-support", Error,
        "the site's Kubernetes version is outside what a pinned component supports",
        "a controller outside its supported range may refuse to start, or Helm refuses the chart outright (`kubeVersion`); the tree would never reconcile",
        "target a Kubernetes version inside every range the message names (1.36 suits Flux 2.9 and Rook 1.20), or pin releases that support yours";
    CALICO_POD_POOL = "CB091", "calico-pod-pool", Error,
        "no Calico IP pool lies inside the pod CIDR, or a pool straddles it",
        "the pod pool belongs to the Calico operator's Installation, which must lie inside kubeadm's pod subnet; without one the operator makes its own default (IPIP, the whole pod CIDR), and a pool half inside is refused",
        "give [[calico.ip_pool]] a pool whose cidr lies inside [network] pod_cidr (usually equal to it), and keep every other pool outside the pod CIDR";
    OBC_CONFIG_NOT_ALLOWED = "CB092", "obc-config-not-allowed", Error,
        "an ObjectBucketClaim sets an additionalConfig key the Rook operator does not allow",
        "Rook refuses such a claim (\"OBC config ... is not allowed\"); it stays Pending for ever and nothing reports why",
        "add the key to the rook-ceph release's obcAllowAdditionalConfigFields, or stop setting it";
    BUCKET_OWNER_UNKNOWN = "CB093", "bucket-owner-unknown", Error,
        "a bucket's owner is not an object store user of the site",
        "with bucketOwner Rook only looks the user up (\"Ceph object user ... not found\"): the claim is never bound",
        "add a [[ceph.object_store.user]] with that name, or name an existing one";
    RWO_ROLLING_UPDATE = "CB094", "rwo-rolling-update", Error,
        "a Deployment with a ReadWriteOnce volume runs more than one replica or is updated by rolling update",
        "a rolling update starts the new pod before the old one stops, and a second replica runs beside the first: on another node the volume never attaches, and the rollout hangs until Helm or Flux time out",
        "run one replica with the Recreate strategy (strategy.type and replicas, or the chart's values for them)";
    ACME_STORAGE_UNWRITABLE = "CB095", "acme-storage-unwritable", Error,
        "Traefik's ACME storage is not on a volume its process can write, with the mode Traefik demands",
        "Traefik then drops the resolver and serves its default certificate on every name; logins over TLS fail",
        "keep the storage under persistence.path with persistence enabled, set podSecurityContext.fsGroup to the group Traefik runs as (65532), and make acme.json mode 600 (the init container of templates/traefik)";
    TRAEFIK_ENTRY_POINT = "CB096", "traefik-entry-point", Error,
        "a Traefik entry point whose name or port the chart cannot take",
        "port names are cut to 15 characters and must be unique; the chart's own entry points (traefik, web, websecure, metrics) and their ports are taken; two entry points on one port and protocol cannot both bind",
        "use a name of at most 15 characters that the chart does not define, and a port (and protocol) no other entry point uses";
    SITE_FILE_REFUSED = "CB100", "site-file-refused", Error,
        "a site file that is not a regular file inside the site folder: a link out of it (or to nothing), a folder, a FIFO, a device, a file of /proc or /sys, a name that is not UTF-8",
        "the site is read from a pull request as much as from an operator: a link to /proc/self/environ or a credentials file would print that file in an error, a FIFO or /dev/zero would hang the build or read without end",
        "replace the link by the file itself (or a link to a file inside the site folder); keep site files regular files with UTF-8 names";
    LIMIT_EXCEEDED = "CB101", "limit-exceeded", Error,
        "a size or a count past what casa-build accepts (file size, files, nodes, drives, GPUs, name width)",
        "memory and time must not grow with a number typed into a file: `count = 5000000` would make five million nodes",
        "stay within the limit the message names; a site beyond it is most likely a typo";
    FLUX_LABEL_LENGTH = "CB102", "flux-label-length", Error,
        "a name that becomes a label value longer than 63 characters once the prefix casa-build or Flux adds to it",
        "Flux labels every object it applies with its Kustomization's name (`kustomize.toolkit.fluxcd.io/name`, the unit `instance-<name>`), and the API server refuses a label value over 63 characters: every object of the unit would fail to apply",
        "shorten the name so that the name with its prefix is at most 63 characters";
    CEPH_MON_COUNT = "CB103", "ceph-mon-count", Error,
        "a Ceph monitor count that is zero, even, above Rook's 9, or below 3 on a site with production instances",
        "monitors keep quorum by majority: an even count tolerates no more failures than one fewer, one monitor none at all, and Rook refuses more than 9",
        "run 3 monitors (5 on large sites); 1 only on a test site without production instances";
    SECRET_TOO_LARGE = "CB104", "secret-too-large", Error,
        "the sealed values of one Secret hold more than 1 MiB",
        "the API server refuses a Secret whose data exceed 1 MiB (MaxSecretSize), so its SealedSecret never unseals",
        "store large files elsewhere (a volume, an object store) and keep Secrets to credentials";
    NAMESPACE_REMOVED = "CB120", "namespace-removed", Warning,
        "danger: a Namespace leaves the tree and Flux prunes it",
        "deleting a Namespace deletes everything in it, what the tree never lists included: the users' home volumes (the PVCs the hub makes), the hub's database, unsealed Secrets",
        "keep the Namespace (and the instance or component that makes it), or back up the volumes in it before the change merges";
    CLAIM_REMOVED = "CB121", "claim-removed", Warning,
        "danger: a PersistentVolumeClaim leaves the tree and Flux prunes it",
        "a dynamically provisioned volume has reclaim policy Delete unless its class says otherwise: deleting the claim deletes the data",
        "keep the claim, or set its volume's reclaim policy to Retain first";
    INSTANCE_REMOVED = "CB122", "instance-removed", Warning,
        "danger: an instance is removed: its file is gone (or not named *.toml) and its Flux Kustomization with it",
        "Flux deletes a pruning Kustomization's objects with it: the hub, its users' sessions, and with its Namespace their home volumes",
        "restore the instance file (instances/<name>.toml), or stop the hub without deleting it: `suspend = true` under [instance]";
    STORAGE_CLASS_IMMUTABLE = "CB123", "storage-class-immutable", Warning,
        "danger: a StorageClass changes its provisioner, parameters, reclaimPolicy or volumeBindingMode, which cannot be updated",
        "the API server refuses the update, so Flux's apply of the whole unit fails until it is undone; volumes already provisioned keep the old settings",
        "give the new settings a StorageClass of a new name and move claims to it";
    CLAIM_IMMUTABLE = "CB124", "claim-immutable", Warning,
        "danger: a PersistentVolumeClaim changes its class, access modes, volume mode, volume or data source, or shrinks its request",
        "a claim's spec is immutable after creation except for growing its request: the update is refused and the unit stops applying; re-creating the claim deletes its data",
        "make a new claim (a new name) and copy the data, or keep the old settings";
    OSDS_MOVED = "CB125", "osds-moved", Warning,
        "danger: the Ceph cluster's OSD layout changes under existing OSDs: a host leaves the list or is renamed, a device leaves a host, osdsPerDevice changes",
        "Rook never removes an OSD by itself and applies osdsPerDevice only when it prepares a device: OSDs of a renamed host or dropped device are left unmanaged, new ones are prepared, and Ceph moves data between them; more than one host's OSDs out at once can lose data",
        "change one host at a time and wait for all placement groups to be active+clean; purge OSDs as Rook's OSD management guide says; or keep the layout";
    REPLICAS_LOWERED = "CB126", "replicas-lowered", Warning,
        "danger: a Ceph pool keeps fewer copies (replicated.size goes down)",
        "Ceph drops the extra copies at once: one host fewer can fail before data is lost",
        "keep the replica count, or lower it knowingly, one pool at a time";
    POOL_REMOVED = "CB127", "pool-removed", Warning,
        "danger: a Ceph block pool, filesystem, object store or bucket claim leaves the tree and Flux prunes it",
        "Rook deletes the Ceph pools of a deleted pool, filesystem or object store (unless told to preserve them) and a claim's bucket: every volume, file and object in them",
        "keep the object; to retire it, set preservePoolsOnDelete / preserveFilesystemOnDelete and check nothing uses it first";
    SELECTOR_CHANGED = "CB128", "selector-changed", Warning,
        "danger: a Deployment, StatefulSet or DaemonSet changes its selector (or a StatefulSet its volume claim templates)",
        "apps/v1 keeps these immutable: the API server refuses the update and the unit stops applying; deleting the workload to get past it stops its pods",
        "keep the selector; to change it, create the workload under a new name and remove the old one";
    CRD_REMOVED = "CB129", "crd-removed", Warning,
        "danger: a CustomResourceDefinition leaves the tree and Flux prunes it while objects of its kind remain",
        "the API server deletes every object of a kind with its CRD",
        "remove the objects of the kind first, or keep the CRD";
    UNIT_MOVED = "CB130", "unit-moved", Warning,
        "danger: an object moves from one Flux Kustomization to another",
        "the old Kustomization may prune it before the new one applies it: it is deleted and re-created (a Namespace empty, a claim with a new, empty volume)",
        "move it in two steps: add it to the new unit with the annotation kustomize.toolkit.fluxcd.io/prune: disabled, then remove it from the old";
    SEALED_SCOPE_CHANGED = "CB131", "sealed-scope-changed", Warning,
        "danger: a SealedSecret's scope changes (strict, namespace-wide, cluster-wide)",
        "a wider scope lets the value be unsealed under other names or in any namespace by whoever may create a SealedSecret there; a narrower one needs every value sealed again",
        "seal for the narrowest scope that works (strict), and widen only on purpose";
    NO_SITE = "CB140", "no-site", Error,
        "no site.toml where the command looked (the --site folder, or the working folder and its parents)",
        "every command reads a site; run elsewhere it has nothing to read (exit 3: the environment, not a site, is wrong)",
        "run casa-build inside the site folder (any folder below it works), or pass --site DIR or --site DIR/site.toml";
    SCHEMAS_UNUSABLE = "CB141", "schemas-unusable", Error,
        "a schema location or schema file cannot be used: the folder is missing or not laid out like kubeconform's, a file is unreadable, not JSON or YAML, or not a schema",
        "objects cannot be checked against a schema that cannot be read (exit 3: the environment, not the site, is wrong)",
        "fix or remove the location named in the message (--schemas, CASA_SCHEMAS, [site] schemas); without one, the embedded catalog is used";
}

impl Code {
    /// Whether the code reports trouble outside the site (exit 3) rather than an invalid
    /// site (exit 2).
    pub fn is_environment(self) -> bool {
        matches!(self, NO_SITE | SCHEMAS_UNUSABLE)
    }

    /// Whether the code is a finding of the danger review (`diff`), not of `check`.
    pub fn is_danger(self) -> bool {
        ("CB120"..="CB139").contains(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_ordered() {
        let codes: Vec<_> = CODES.iter().map(|c| c.code.0).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
        assert!(codes.iter().all(|c| c.len() == 5 && c.starts_with("CB")));
    }

    #[test]
    fn every_constant_is_registered() {
        for c in CODES {
            assert_eq!(c.code.info().name, c.name);
        }
        assert_eq!(Code::lookup("cb012").map(|c| c.name), Some("cidr-overlap"));
    }
}

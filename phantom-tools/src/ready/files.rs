//! File tools confined to one directory: read, write, delete.
//!
//! Paths are written as the agent sees them (`/notes/today.md`) and land
//! under the set's root; `..` and other escapes are refused. Writing and
//! deleting record how to undo themselves, so a failed mission puts the
//! files back.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use phantom_sdk::{Compensation, ToolOutput};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::tool::{CallDetails, Declaration, Tool, ToolError};

/// Largest file the tools read or restore, in bytes.
const MAX_FILE: u64 = 1024 * 1024;

/// The directory the file tools work in.
#[derive(Debug, Clone)]
pub struct FileRoot(Arc<PathBuf>);

impl FileRoot {
    /// Tools rooted at `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self(Arc::new(dir.into()))
    }

    /// The real path of the agent's `path`.
    ///
    /// # Errors
    ///
    /// Refuses paths that would leave the root.
    pub fn resolve(&self, path: &str) -> Result<PathBuf, ToolError> {
        let mut resolved = self.0.as_ref().clone();
        for component in Path::new(path).components() {
            match component {
                Component::RootDir | Component::CurDir => {}
                Component::Normal(part) => resolved.push(part),
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(ToolError::Failed(format!(
                        "path `{path}` leaves the workspace"
                    )));
                }
            }
        }
        Ok(resolved)
    }

    /// The three tools, sharing this root.
    pub fn tools(&self) -> (ReadFile, WriteFile, DeleteFile) {
        (
            ReadFile(self.clone()),
            WriteFile(self.clone()),
            DeleteFile(self.clone()),
        )
    }
}

fn read_limited(path: &Path) -> Result<Option<String>, ToolError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ToolError::Failed(e.to_string())),
        Ok(meta) if meta.len() > MAX_FILE => {
            return Err(ToolError::Failed(format!(
                "file is larger than {MAX_FILE} bytes"
            )));
        }
        Ok(_) => {}
    }
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|e| ToolError::Failed(e.to_string()))
}

/// Arguments naming one file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathArgs {
    /// The file, e.g. `/notes/meeting.md`.
    pub path: String,
}

/// Arguments writing one file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteArgs {
    /// The file, e.g. `/reports/summary.md`.
    pub path: String,
    /// The whole new content.
    pub content: String,
}

/// `read_file`.
#[derive(Debug, Clone)]
pub struct ReadFile(FileRoot);

impl Tool for ReadFile {
    type Args = PathArgs;

    fn name(&self) -> &str {
        "read_file"
    }

    fn description(&self) -> &str {
        "Read a text file from the user's workspace."
    }

    fn declaration(&self) -> Declaration {
        Declaration::read("files.read").user_data()
    }

    fn details(&self, args: &PathArgs) -> CallDetails {
        CallDetails {
            resource: Some(format!("file:{}", args.path.trim_start_matches('/'))),
            ..CallDetails::default()
        }
        .only_if_valid()
    }

    async fn call(&self, args: PathArgs) -> Result<ToolOutput, ToolError> {
        let path = self.0.resolve(&args.path)?;
        let content = read_limited(&path)?
            .ok_or_else(|| ToolError::Failed(format!("no file `{}`", args.path)))?;
        Ok(ToolOutput::new(
            serde_json::json!({"path": args.path, "content": content}),
        ))
    }
}

/// `write_file`: undone by restoring the previous content, or deleting the
/// file if there was none.
#[derive(Debug, Clone)]
pub struct WriteFile(FileRoot);

impl Tool for WriteFile {
    type Args = WriteArgs;

    fn name(&self) -> &str {
        "write_file"
    }

    fn description(&self) -> &str {
        "Write a text file in the user's workspace, replacing any previous content."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("files.write")
    }

    async fn call(&self, args: WriteArgs) -> Result<ToolOutput, ToolError> {
        if args.content.len() as u64 > MAX_FILE {
            return Err(ToolError::Failed(format!(
                "content is larger than {MAX_FILE} bytes"
            )));
        }
        let path = self.0.resolve(&args.path)?;
        let previous = read_limited(&path)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ToolError::Failed(e.to_string()))?;
        }
        std::fs::write(&path, &args.content).map_err(|e| ToolError::Failed(e.to_string()))?;

        let undo = match previous {
            Some(content) => Compensation {
                name: "write_file".to_owned(),
                args: serde_json::json!({"path": args.path, "content": content}),
            },
            None => Compensation {
                name: "delete_file".to_owned(),
                args: serde_json::json!({"path": args.path}),
            },
        };
        Ok(
            ToolOutput::new(serde_json::json!({"written": args.path, "bytes": args.content.len()}))
                .undone_by(undo),
        )
    }
}

/// `delete_file`: undone by writing the content back.
#[derive(Debug, Clone)]
pub struct DeleteFile(FileRoot);

impl Tool for DeleteFile {
    type Args = PathArgs;

    fn name(&self) -> &str {
        "delete_file"
    }

    fn description(&self) -> &str {
        "Delete a file from the user's workspace."
    }

    fn declaration(&self) -> Declaration {
        Declaration::write("files.delete").destructive()
    }

    fn details(&self, args: &PathArgs) -> CallDetails {
        CallDetails {
            resource: Some(format!("file:{}", args.path.trim_start_matches('/'))),
            ..CallDetails::default()
        }
        .only_if_valid()
    }

    async fn call(&self, args: PathArgs) -> Result<ToolOutput, ToolError> {
        let path = self.0.resolve(&args.path)?;
        let Some(content) = read_limited(&path)? else {
            // Deleting what is not there leaves the workspace as asked.
            return Ok(ToolOutput::new(
                serde_json::json!({"deleted": args.path, "existed": false}),
            ));
        };
        std::fs::remove_file(&path).map_err(|e| ToolError::Failed(e.to_string()))?;
        let undo = Compensation {
            name: "write_file".to_owned(),
            args: serde_json::json!({"path": args.path, "content": content}),
        };
        Ok(
            ToolOutput::new(serde_json::json!({"deleted": args.path, "existed": true}))
                .undone_by(undo),
        )
    }
}

impl CallDetails {
    /// Drops a resource that is not a valid `type:id` (paths may hold
    /// characters ids may not): the call is then not checked in the graph
    /// rather than refused for its spelling.
    fn only_if_valid(mut self) -> Self {
        if let Some(resource) = &self.resource
            && resource.parse::<phantom_sdk::ObjectRef>().is_err()
        {
            self.resource = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    use super::*;
    use crate::set::ToolSet;

    #[test]
    fn paths_cannot_escape_the_root() {
        let root = FileRoot::new("/srv/work");
        assert_eq!(
            root.resolve("/notes/a.md").unwrap(),
            PathBuf::from("/srv/work/notes/a.md")
        );
        assert!(root.resolve("/notes/../../etc/passwd").is_err());
        assert!(root.resolve("../x").is_err());
    }

    #[tokio::test]
    async fn writing_and_deleting_record_their_undo() {
        let dir = tempfile::tempdir().unwrap();
        let root = FileRoot::new(dir.path());
        let (read, write, delete) = root.tools();
        let set = ToolSet::new().with(read).with(write).with(delete);

        let call = set
            .prepare(
                "write_file",
                serde_json::json!({"path": "/a.txt", "content": "one"}),
                None,
            )
            .unwrap();
        let output = set.clone().oneshot(call).await.unwrap();
        assert_eq!(output.compensation.as_ref().unwrap().name, "delete_file");

        let call = set
            .prepare("delete_file", serde_json::json!({"path": "/a.txt"}), None)
            .unwrap();
        let output = set.clone().oneshot(call).await.unwrap();
        let undo = output.compensation.unwrap();
        assert_eq!(undo.name, "write_file");
        assert_eq!(undo.args["content"], "one");
        assert!(!dir.path().join("a.txt").exists());
    }
}

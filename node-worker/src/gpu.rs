//! What GPU the node announces on `join`: detected with nvidia-smi when it is installed, else the
//! name and VRAM given in the configuration.

use std::process::Command;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuInfo {
    pub name: String,
    /// Whole gigabytes, as the contract compares them.
    pub vram_gb: u64,
    pub detected: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU {index} found by nvidia-smi and no `gpu.name` / `gpu.vram_gb` configured")]
    NotFound { index: usize },
    #[error("nvidia-smi answered something unexpected: {0:?}")]
    Unparsable(String),
}

/// Parses one line of `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`.
pub fn parse_nvidia_smi_line(line: &str) -> Result<(String, u64), GpuError> {
    let (name, mib) = line
        .rsplit_once(',')
        .ok_or_else(|| GpuError::Unparsable(line.into()))?;
    let mib: u64 = mib
        .trim()
        .parse()
        .map_err(|_| GpuError::Unparsable(line.into()))?;
    // Round to the nearest GiB: a "24 GB" card reports 24564 MiB.
    Ok((name.trim().to_string(), (mib + 512) / 1024))
}

fn query_nvidia_smi(index: usize) -> Option<(String, u64)> {
    let output = Command::new("nvidia-smi")
        .args([
            "--query-gpu=name,memory.total",
            "--format=csv,noheader,nounits",
            &format!("--id={index}"),
        ])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    parse_nvidia_smi_line(text.lines().next()?).ok()
}

/// The configured name and VRAM win (an operator may announce less than the card has);
/// otherwise nvidia-smi decides.
pub fn detect(
    index: usize,
    configured_name: Option<&str>,
    configured_vram: Option<u64>,
) -> Result<GpuInfo, GpuError> {
    if let (Some(name), Some(vram_gb)) = (configured_name, configured_vram) {
        return Ok(GpuInfo {
            name: name.into(),
            vram_gb,
            detected: false,
        });
    }
    let (name, vram_gb) = query_nvidia_smi(index).ok_or(GpuError::NotFound { index })?;
    Ok(GpuInfo {
        name: configured_name.map(str::to_string).unwrap_or(name),
        vram_gb: configured_vram.unwrap_or(vram_gb),
        detected: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nvidia_smi_output() {
        let (name, gb) = parse_nvidia_smi_line("NVIDIA H100 80GB HBM3, 81559").unwrap();
        assert_eq!(name, "NVIDIA H100 80GB HBM3");
        assert_eq!(gb, 80);
        let (_, gb) = parse_nvidia_smi_line("NVIDIA GeForce RTX 4090, 24564").unwrap();
        assert_eq!(gb, 24);
        assert!(parse_nvidia_smi_line("garbage").is_err());
    }

    #[test]
    fn configuration_wins() {
        let gpu = detect(0, Some("X"), Some(8)).unwrap();
        assert_eq!(
            (gpu.name.as_str(), gpu.vram_gb, gpu.detected),
            ("X", 8, false)
        );
    }
}

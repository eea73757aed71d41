import Foundation

/// What the LoRA trainer is given of pwb's environment: what Python, PyTorch and a GPU need,
/// and nothing else. The trainer runs third-party code (torch, transformers, peft, llama.cpp's
/// conversion script), and pwb's environment holds the keys it sends to hosted models
/// (`OPENAI_API_KEY`, `PWB_…`), which training has no use for.
enum TrainerEnvironment {
    static let names: Set<String> = [
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM", "XDG_CACHE_HOME", "HF_HOME",
        "TORCH_HOME", "LD_LIBRARY_PATH",
    ]
    /// Locale, GPU and thread settings, by family.
    static let prefixes = ["LC_", "CUDA_", "NVIDIA_", "ROCM_", "HIP_", "HSA_", "OMP_", "MKL_", "OPENBLAS_", "PYTORCH_"]

    /// `environment` with only the variables above, and none whose name says it is a secret.
    static func from(_ environment: [String: String]) -> [String: String] {
        environment.filter { name, _ in
            let secret = ["KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"].contains {
                name.uppercased().contains($0)
            }
            return !secret && (names.contains(name) || prefixes.contains { name.hasPrefix($0) })
        }
    }
}

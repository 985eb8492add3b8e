using PgIg.Config;
using PgIg.Models;

namespace PgIg.Tracks;

/// <summary>
/// A model of <c>architecture: custom</c>: the weights of a local state_dict file, which the Fetch stage maps onto
/// <c>model.layers</c> (by parameter name, batch norms folded) and stores as model.parquet.
/// </summary>
public sealed class ImportedModel(string path, string? pinnedSha256, CustomModelConfig architecture) : ModelSource
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);
    /// <summary>model.weights_sha256: the file must have this content.</summary>
    public string? PinnedSha256 { get; } = pinnedSha256;
    public CustomModelConfig Architecture { get; } = architecture;

    public override SequentialNet Build(IReadOnlyList<PgIg.Stages.StoredTensor> tensors)
    {
        var (weights, biases) = PgIg.Stages.StoredTensor.SplitModel(tensors);
        return CustomArchitecture.Build(Architecture, [.. weights.Select(t => t.Value)], [.. biases.Select(t => t.Value)]);
    }
}

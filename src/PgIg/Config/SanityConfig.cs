using PgIg.Sanity;

namespace PgIg.Config;

/// <summary>
/// The Sanity stage (cascading model-parameter randomisation and class sensitivity, Adebayo et al. 2018): off unless the
/// config has a <c>sanity</c> section. Every method runs once per randomisation level on the first <see cref="Images"/>
/// evaluation images, so the subset is small.
/// </summary>
/// <param name="Images">The first images of the evaluation set; whole batches, so batch-coupled methods see the
/// batches they see in Attribute.</param>
/// <param name="Seed">Seeds the re-initialised weights (per layer) and the random-map reference.</param>
/// <param name="Layers">How many conv/dense layers the cascade randomises, from the top; null: all of them.</param>
public sealed record SanityConfig(bool Enabled, int Images, long Seed, int? Layers)
{
    public static SanityConfig Disabled { get; } = new(false, 0, 0, null);

    /// <summary>Default subset: 50 images rounded up to whole batches.</summary>
    public static int DefaultImages(int batchSize) => (50 + batchSize - 1) / batchSize * batchSize;

    /// <summary>Parses <c>sanity: {enabled, images, seed, layers}</c>; checked against the batch size and the model's layers now,
    /// not after training.</summary>
    internal static SanityConfig Parse(YamlNodeReader? r, string file, int batchSize, long globalSeed, ModelConfig model, Track track)
    {
        if (r is null) return Disabled;
        bool enabled = r.Bool("enabled", true);
        int images = r.Int("images", DefaultImages(batchSize), 1);
        long seed = r.Int("seed", (int)globalSeed, 0);
        int? layers = r.Has("layers") ? r.Int("layers", 0, 1) : null;
        r.RejectUnknown();
        if (images % batchSize != 0)
            throw YamlNodeReader.Error(file, r.NodeOf("images"), $"field 'sanity.images' ({images}) must be a multiple of batch_size ({batchSize}): the randomised " +
                $"model's maps are computed in the Attribute's batches, so batch-coupled methods compare like with like; use {Math.Max(batchSize, images / batchSize * batchSize)} or {(images / batchSize + 1) * batchSize}");
        if (layers is { } k && CascadeLayers.Names(model, track) is { } names && k > names.Count)
            throw YamlNodeReader.Error(file, r.NodeOf("layers"), $"field 'sanity.layers' ({k}) exceeds the model's {names.Count} conv/dense layers ({string.Join(", ", names)}); use at most {names.Count}, or leave it out to randomise them all");
        return new SanityConfig(enabled, images, seed, layers);
    }
}

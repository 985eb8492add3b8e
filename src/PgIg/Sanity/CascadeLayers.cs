using PgIg.Config;
using PgIg.Models;

namespace PgIg.Sanity;

/// <summary>
/// The conv/dense layers a cascade randomises, named as the model names them, bottom to top: the Fashion-MNIST CNN's
/// conv1…conv4, dense1, dense2; VGG16's conv1_1…fc8; a custom model's state_dict prefixes (features.0, …).
/// Level k of the cascade has the top k of them re-initialised and is named after the lowest of those.
/// </summary>
public static class CascadeLayers
{
    /// <summary>Every conv/dense layer of the configured model, bottom to top; null where the config does not decide it.</summary>
    public static IReadOnlyList<string>? Names(ModelConfig model, Track track)
    {
        if (model.Custom is { } custom)
            return custom.Layers.Where(l => l.Type is LayerConfig.Conv or LayerConfig.Linear).Select(l => l.Name ?? $"layer{l.Index}").ToList();
        if (model.Architecture == "vgg16") return Enumerable.Range(0, Vgg16Npz.Layers).Select(Vgg16Npz.LayerName).ToList();
        if (model.Architecture == "fashion-cnn" && track == Track.FashionMnist) return ByKind(Architectures.FashionCnn.Layout);
        return null;
    }

    /// <summary>conv1, conv2, …, dense1, … in layout order.</summary>
    static List<string> ByKind(IReadOnlyList<string> layout)
    {
        int conv = 0, dense = 0;
        return layout.Where(k => k is "conv" or "dense").Select(k => k == "conv" ? $"conv{++conv}" : $"dense{++dense}").ToList();
    }

    /// <summary>The cascade's levels 1…K, top down: level k is named after the k-th layer from the top (the lowest one it randomises).</summary>
    public static IReadOnlyList<string> Levels(PipelineConfig c)
    {
        var names = Names(c.Model, c.Track) ?? throw new InvalidOperationException($"the layers of architecture {c.Model.Architecture} are not known from the config");
        int k = c.Sanity.Layers ?? names.Count;
        return Enumerable.Range(1, k).Select(level => names[names.Count - level]).ToList();
    }
}

from tasks.stories import assign_story_ids, band_keys, signature, similarity

STORY = (
    "North Korea fired several short-range ballistic missiles toward the sea off its east coast "
    "on Wednesday, South Korea's Joint Chiefs of Staff said. The military in Seoul said it had "
    "raised its surveillance posture and was sharing information with Washington and Tokyo. "
    "Kim Jong-un has overseen a string of weapons tests this year. Analysts said Kim wants to "
    "show strength ahead of the summit. Japan's government said the missiles landed outside its "
    "exclusive economic zone. North Korea's foreign ministry said the country has the right to "
    "test weapons for self-defence, and accused Washington of raising tension in the region."
)
EDITED = STORY.replace("Analysts said Kim wants to show strength ahead of the summit.",
                       "Experts believe the leader is trying to project power before the summit.")
OTHER = ("European Union leaders meeting in Brussels agreed on Saturday to a new package of "
         "sanctions against Russia, targeting oil exports and banks that help Moscow avoid earlier "
         "measures. Hungary's prime minister said he still had doubts about the plan.")


def test_one_edited_sentence_stays_similar_and_another_story_does_not():
    assert similarity(signature(STORY), signature(EDITED)) >= 0.7
    assert similarity(signature(STORY), signature(OTHER)) < 0.2


def test_near_duplicates_share_a_story_id_and_others_start_their_own():
    stories = assign_story_ids([("a", signature(STORY)), ("b", signature(EDITED)),
                                ("c", signature(OTHER))], [], threshold=0.7)
    assert stories == {"a": "a", "b": "a", "c": "c"}


def test_a_new_copy_joins_a_stored_story_and_stored_ids_never_change():
    stored = [("old", "story-1", signature(STORY))]
    stories = assign_story_ids([("new", signature(EDITED))], stored, threshold=0.7)
    assert stories == {"new": "story-1"}


def test_texts_without_words_never_match_each_other():
    stories = assign_story_ids([("a", signature("...")), ("b", signature("!!!"))], [],
                               threshold=0.7)
    assert stories == {"a": "a", "b": "b"}


def test_signatures_are_the_ones_earlier_runs_stored():
    # datasketch 2.0's MinHash(num_perm=128, seed=1) gave these for this sentence; stored
    # signatures from earlier runs must keep matching new ones
    sig = signature("North Korean leader Kim Jong-un said on Friday that his country would "
                    "stand with Russia.")
    assert [int(v) for v in sig[:6]] == [302125141, 818748417, 411971327, 110035243, 720709426,
                                         340006353]
    assert [int(v) for v in sig[-3:]] == [163786129, 738491919, 113664080]
    assert sig.dtype.name == "uint64" and len(sig) == 128


def test_an_article_joins_its_most_similar_story_among_several_candidates():
    nearer = EDITED.replace("on Wednesday", "on Tuesday")  # EDITED with one word changed
    new = signature(EDITED)
    assert similarity(new, signature(nearer)) > similarity(new, signature(STORY)) >= 0.7
    assert set(band_keys(new)) & set(band_keys(signature(STORY)))  # both are candidates
    far, near = ("far", "story-far", signature(STORY)), ("near", "story-near", signature(nearer))
    for stored in ([far, near], [near, far]):
        assert assign_story_ids([("new", new)], stored, threshold=0.7) == {"new": "story-near"}

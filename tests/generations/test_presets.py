"""Room types, styles and generation defaults; the YAML override; the provider prompt."""

import re
from pathlib import Path

import pytest
import yaml

from roomcraft.generations.presets import (
    DEFAULT_PRESETS,
    MODES,
    InvalidPresets,
    Presets,
    RoomType,
    Style,
    build_prompt,
    load_presets,
    presets_document,
    presets_to_yaml,
)

HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")


def write_presets(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "presets.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


class TestDefaults:
    def test_no_file_gives_the_built_in_presets(self) -> None:
        assert load_presets(None) is DEFAULT_PRESETS

    def test_room_types_and_styles_are_plenty_with_snake_case_unique_keys(self) -> None:
        presets = load_presets(None)
        assert len(presets.room_types) >= 12
        assert len(presets.styles) >= 24
        for entries in (presets.room_types, presets.styles):
            keys = [entry.key for entry in entries]
            assert len(set(keys)) == len(keys)
            assert all(SNAKE_CASE.match(key) for key in keys)

    def test_expected_room_types_and_styles_are_there(self) -> None:
        presets = load_presets(None)
        for key in ("living_room", "bedroom", "nursery", "walk_in_closet", "outdoor_patio"):
            assert presets.room_type(key) is not None
        for key in ("scandinavian", "japandi", "mid_century_modern", "wabi_sabi", "cyberpunk"):
            assert presets.style(key) is not None

    def test_every_style_has_a_sentence_and_a_valid_palette(self) -> None:
        for style in load_presets(None).styles:
            assert style.description.endswith("."), style.key
            assert len(style.description.split()) >= 6, style.key
            assert 4 <= len(style.palette) <= 5, style.key
            assert all(HEX_COLOUR.match(colour) for colour in style.palette), style.key
            assert -1 <= style.warmth <= 1, style.key
            assert 0.5 <= style.contrast <= 1.5, style.key
            assert 0 <= style.saturation <= 2, style.key

    def test_generation_defaults(self) -> None:
        presets = load_presets(None)
        assert presets.aspect_ratios == ("1:1", "3:2", "2:3", "4:3", "3:4", "16:9", "9:16")
        assert presets.qualities == ("low", "medium", "high")
        assert (presets.default_aspect_ratio, presets.default_quality) == ("1:1", "medium")
        assert presets.default_variants == 2

    def test_unknown_keys_are_not_found(self) -> None:
        presets = load_presets(None)
        assert presets.room_type("ballroom") is None
        assert presets.style("baroque") is None


class TestLoadPresets:
    def test_the_built_in_presets_round_trip_through_yaml(self, tmp_path: Path) -> None:
        path = tmp_path / "presets.yaml"
        path.write_text(presets_to_yaml(DEFAULT_PRESETS), encoding="utf-8")
        assert load_presets(path) == DEFAULT_PRESETS

    def test_a_file_replaces_the_sections_it_names(self, tmp_path: Path) -> None:
        path = write_presets(
            tmp_path,
            {
                "room_types": [{"key": "sunroom", "name": "Sunroom"}],
                "styles": [
                    {
                        "key": "brutalist",
                        "name": "Brutalist",
                        "description": "Raw board-marked concrete and heavy, honest forms.",
                        "palette": ["#8A8A86", "#5E5C58", "#C2462E", "#3F3F3F"],
                        "warmth": -0.2,
                        "contrast": 1.3,
                        "saturation": 0.6,
                    }
                ],
                "default_variants": 4,
            },
        )
        presets = load_presets(path)
        assert presets.room_types == (RoomType("sunroom", "Sunroom"),)
        assert presets.style("brutalist") == Style(
            "brutalist",
            "Brutalist",
            "Raw board-marked concrete and heavy, honest forms.",
            ("#8A8A86", "#5E5C58", "#C2462E", "#3F3F3F"),
            -0.2,
            1.3,
            0.6,
        )
        assert presets.style("scandinavian") is None
        assert presets.default_variants == 4
        assert presets.aspect_ratios == DEFAULT_PRESETS.aspect_ratios

    def test_a_bad_palette_names_the_style_and_the_field(self, tmp_path: Path) -> None:
        document = presets_document(DEFAULT_PRESETS)
        document["styles"][2]["palette"] = ["#FFFFFF", "blue", "#000000"]
        with pytest.raises(InvalidPresets) as raised:
            load_presets(write_presets(tmp_path, document))
        message = str(raised.value)
        assert str(tmp_path / "presets.yaml") in message
        assert "styles.2.palette" in message

    def test_a_missing_field_is_reported(self, tmp_path: Path) -> None:
        path = write_presets(tmp_path, {"room_types": [{"key": "den"}]})
        with pytest.raises(InvalidPresets, match=r"room_types\.0\.name: Field required"):
            load_presets(path)

    def test_repeated_keys_are_refused(self, tmp_path: Path) -> None:
        room = {"key": "den", "name": "Den"}
        path = write_presets(tmp_path, {"room_types": [room, room]})
        with pytest.raises(InvalidPresets, match="room_types repeats the keys den"):
            load_presets(path)

    def test_a_default_outside_its_list_is_refused(self, tmp_path: Path) -> None:
        path = write_presets(tmp_path, {"aspect_ratios": ["1:1"], "default_aspect_ratio": "16:9"})
        with pytest.raises(InvalidPresets, match="default_aspect_ratio must be one of"):
            load_presets(path)

    def test_unknown_sections_are_refused(self, tmp_path: Path) -> None:
        path = write_presets(tmp_path, {"colours": ["#FFFFFF"]})
        with pytest.raises(InvalidPresets, match="unknown keys: colours"):
            load_presets(path)

    def test_broken_yaml_is_a_clear_error(self, tmp_path: Path) -> None:
        path = tmp_path / "presets.yaml"
        path.write_text("room_types: [unclosed\n", encoding="utf-8")
        with pytest.raises(InvalidPresets, match="is not valid YAML"):
            load_presets(path)

    def test_a_file_that_is_not_a_mapping_is_refused(self, tmp_path: Path) -> None:
        path = write_presets(tmp_path, ["living_room", "bedroom"])
        with pytest.raises(InvalidPresets, match="must be a mapping"):
            load_presets(path)

    def test_a_missing_file_is_a_clear_error(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidPresets, match="cannot be read"):
            load_presets(tmp_path / "absent.yaml")


class TestBuildPrompt:
    @pytest.mark.parametrize("mode", MODES)
    def test_names_the_room_the_style_and_the_users_words(self, mode: str) -> None:
        prompt = build_prompt(
            DEFAULT_PRESETS,
            mode=mode,
            room_type="home_office",
            style="mid_century_modern",
            user_prompt="  a walnut desk\nand a green lamp ",
        )
        style = DEFAULT_PRESETS.style("mid_century_modern")
        assert style is not None
        assert "home office" in prompt
        assert "Mid-century modern" in prompt
        assert style.description in prompt
        assert prompt.endswith("a walnut desk and a green lamp")

    def test_each_mode_says_what_to_do(self) -> None:
        def prompt_for(mode: str) -> str:
            return build_prompt(
                DEFAULT_PRESETS, mode=mode, room_type="bedroom", style="coastal", user_prompt=None
            )

        assert "Keep the room's layout, walls, windows" in prompt_for("redesign")
        assert "empty bedroom" in prompt_for("staging")
        assert "Furnish" in prompt_for("staging")
        assert "second image into the bedroom of the first image" in prompt_for("compose")
        assert prompt_for("imagine").startswith("A photograph of a bedroom interior")

    def test_imagine_without_room_or_style_uses_the_description(self) -> None:
        prompt = build_prompt(
            DEFAULT_PRESETS,
            mode="imagine",
            room_type=None,
            style=None,
            user_prompt="a reading nook under the stairs",
        )
        assert prompt.startswith("A photograph of a room interior.")
        assert prompt.endswith("Description: a reading nook under the stairs")

    def test_a_key_no_longer_in_the_presets_still_reads(self) -> None:
        presets = Presets((), (), ("1:1",), ("medium",), "1:1", "medium", 1)
        prompt = build_prompt(
            presets, mode="redesign", room_type="wine_cellar", style="art_nouveau", user_prompt=""
        )
        assert prompt.startswith("Redesign this wine cellar in the art nouveau style.")
        assert "wishes" not in prompt

    def test_an_unknown_mode_is_refused(self) -> None:
        with pytest.raises(ValueError, match="Unknown generation mode"):
            build_prompt(
                DEFAULT_PRESETS, mode="paint", room_type=None, style=None, user_prompt="a room"
            )

//! Property tests of what the provider takes from outside: room ids and the configured
//! directory become paths that never leave `directory`; the split of the canonical `url` and
//! the parsers of NextCloud's answers take any input without panicking.

use nextcloud_provider::errors::Error;
use nextcloud_provider::http::Response;
use nextcloud_provider::paths::{FolderPath, NextcloudPath, directory_segments};
use nextcloud_provider::settings::{Origin, Scheme, Settings};
use nextcloud_provider::{ocs, trash, webdav};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;

fn settings(directory: Vec<String>) -> Settings {
    Settings {
        origin: Origin {
            scheme: Scheme::Https,
            authority: "cloud.example.com".into(),
            base_path: "/nc".into(),
        },
        username: "opentalk".into(),
        directory,
        expiry_days: None,
        delete_from_trash: false,
    }
}

/// Strings rich in what breaks paths: separators, dots, escapes, control and non-ASCII
/// characters.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[./\\\\%a-z0-9\u{0}\n\u{202e}É~ -]{0,40}",
        Just("..".to_owned()),
        Just("%2e%2e".to_owned()),
        Just("a/../../etc".to_owned()),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    let json_like = prop_oneof![
        any::<Vec<u8>>(),
        "[{}\\[\\]\":,a-z0-9 \\\\/]{0,200}".prop_map(String::into_bytes),
        Just(br#"{"ocs":{"meta":{"statuscode":200},"data":{"id":"1","url":"https://x/s/t","permissions":17}}}"#.to_vec()),
        Just(br#"{"ocs":{"meta":{"statuscode":"200"},"data":[]}}"#.to_vec()),
        Just(br#"{"ocs":{"meta":{"statuscode":200,"message":"\ud800"},"data":{"id":null}}}"#.to_vec()),
    ];
    (100u16..600, proptest::option::of(any::<u32>()), json_like).prop_map(
        |(status, retry_after, body)| Response {
            retry_after,
            ..Response::new(status, body)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_room_folder_is_one_segment_below_the_directory(
        directory in "[a-z]{1,8}(/[a-z]{1,8}){0,2}",
        room in hostile_text(),
    ) {
        let segments = directory_segments(&directory).unwrap();
        let settings = settings(segments.clone());
        match FolderPath::for_room(&settings.directory, &room) {
            Err(error) => prop_assert!(matches!(error, Error::InvalidRoom(_)), "{error:?}"),
            Ok(folder) => {
                let prefix = "/nc/remote.php/dav/files/opentalk/";
                let dav = folder.dav_path(&settings.origin.base_path, &settings.username);
                prop_assert!(dav.starts_with(prefix), "{dav}");
                let decoded: Vec<String> = dav[prefix.len()..]
                    .split('/')
                    .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
                    .collect();
                let mut expected = segments.clone();
                expected.push(room.clone());
                prop_assert_eq!(decoded, expected);
                prop_assert!(room != "." && room != ".." && !room.contains(['/', '\\']));
                // What delete accepts back is exactly what create made.
                prop_assert!(FolderPath::of_created(&settings.directory, &folder.display()).is_ok());
            }
        }
    }

    #[test]
    fn delete_refuses_any_path_but_a_room_folder(path in hostile_text()) {
        let settings = settings(vec!["meetings".into()]);
        if let Ok(folder) = FolderPath::of_created(&settings.directory, &path) {
            let display = folder.display();
            let room = display.strip_prefix("meetings/");
            prop_assert!(
                room.is_some_and(|r| !r.is_empty() && !r.contains('/') && r != ".."),
                "{}", display
            );
        }
    }

    #[test]
    fn a_directory_never_has_dot_segments(directory in hostile_text()) {
        if let Ok(segments) = directory_segments(&directory) {
            for segment in segments {
                prop_assert!(!segment.is_empty() && segment != "." && segment != "..");
                prop_assert!(!segment.contains(['/', '\\']));
            }
        }
    }

    #[test]
    fn any_url_parses_or_is_refused(
        url in prop_oneof![any::<String>(), "(https?|ftp)://[a-z0-9.:@\\[\\]/%-]{0,40}"],
    ) {
        if let Ok(origin) = Origin::from_canonical(&url) {
            // What is accepted is split, not rewritten: the pieces give back the URL (with one
            // trailing `/`).
            let scheme = match origin.scheme {
                Scheme::Http => "http",
                Scheme::Https => "https",
            };
            prop_assert_eq!(
                format!("{scheme}://{}{}/", origin.authority, origin.base_path),
                format!("{}/", url.trim_end_matches('/'))
            );
        }
    }

    #[test]
    fn any_answer_is_read_or_refused_without_panicking(
        answer in response(),
        permissions in prop_oneof![Just(1u32), Just(15u32)],
    ) {
        if let Ok(share) = ocs::created_share(&answer, permissions) {
            prop_assert!(!share.id.is_empty());
            prop_assert!(share.url.starts_with("http://") || share.url.starts_with("https://"));
            prop_assert!((200..300).contains(&answer.status));
        }
        if let Ok(password) = ocs::generated_password(&answer) {
            prop_assert!(!password.is_empty());
        }
        let _ = webdav::made(&answer);
        let _ = webdav::removed(&answer);
        let _ = ocs::share_removed(&answer);
        let _ = ocs::share_ids(&answer);
    }

    #[test]
    fn a_trash_listing_never_names_anything_outside_the_trash(
        status in prop_oneof![Just(207u16), 100u16..600],
        body in prop_oneof![
            any::<String>(),
            "(<d:multistatus>|<d:response>|</d:response>|<d:href>|</d:href>|/remote.php/dav/trashbin/opentalk/trash/|/remote.php/dav/trash-bin/opentalk/|<nc:trashbin-original-location>|</nc:trashbin-original-location>|<oc:trashbin-original-location>|</oc:trashbin-original-location>|meetings/room|&amp;|&#x2F;|&|\\.\\.|/){0,30}",
        ],
        owncloud in any::<bool>(),
    ) {
        let settings = settings(vec!["meetings".into()]);
        let folder = FolderPath::for_room(&settings.directory, "room").unwrap();
        let answer = Response::new(status, body.into_bytes());
        let (bin, root) = if owncloud {
            (trash::Bin::OwnCloud, "/nc/remote.php/dav/trash-bin/opentalk/")
        } else {
            (trash::Bin::NextCloud, "/nc/remote.php/dav/trashbin/opentalk/trash/")
        };
        if let Ok(Some(entries)) = trash::entries_of(&settings, bin, &answer, &folder) {
            for href in entries {
                let entry = href.strip_prefix(root);
                prop_assert!(entry.is_some_and(|e| !e.is_empty()), "{}", href);
                prop_assert!(!href.split('/').any(|s| s == ".."), "{}", href);
            }
        }
    }
}

#include <gtest/gtest.h>

#include "oee/core/personal_data_mask.h"

namespace oee {

TEST(PersonalDataMask, EmailKeepsTheFirstLetterAndTheDomain) {
  EXPECT_EQ(mask_email("jane.doe@example.com"), "j***@example.com");
  EXPECT_EQ(mask_email("\xc3\xa9lise@example.org"), "\xc3\xa9***@example.org");  // é stays whole
  EXPECT_EQ(mask_email("a\"@\"b@example.com"), "a***@example.com");            // the last @ splits
  for (const char* bad : {"", "jane", "@example.com", "jane@"}) EXPECT_EQ(mask_email(bad), "***") << bad;
}

TEST(PersonalDataMask, NameKeepsTheFirstLetterOfEachWord) {
  EXPECT_EQ(mask_name("Jane Doe"), "J*** D***");
  EXPECT_EQ(mask_name("  Jane   van  Doe "), "J*** v*** D***");
  EXPECT_EQ(mask_name("\xc3\x89mile"), "\xc3\x89***");
  EXPECT_EQ(mask_name(""), "***");
  EXPECT_EQ(mask_name("   "), "***");
}

TEST(PersonalDataMask, AddressKeepsTheNetwork) {
  EXPECT_EQ(mask_address("192.0.2.77"), "192.0.2.0/24");
  EXPECT_EQ(mask_address("127.0.0.1"), "127.0.0.0/24");
  EXPECT_EQ(mask_address("2001:db8:1:2:3:4:5:6"), "2001:db8:1::/48");
  EXPECT_EQ(mask_address("::ffff:198.51.100.9"), "198.51.100.0/24");
  EXPECT_EQ(mask_address("::1"), "::/48");
  for (const char* bad : {"", "localhost", "1.2.3", "1.2.3.4.5", "999.1.1.1", "2001:db8::1::2",
                          "0123456789012345678901234567890123456789012345678901234567890"})
    EXPECT_EQ(mask_address(bad), "***") << bad;
}

}  // namespace oee

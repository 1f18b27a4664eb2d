package searchtest

import (
	"math/rand/v2"
	"strings"
)

// titleWords are common words of Vietnamese song titles.
var titleWords = strings.Fields(`anh em yêu thương nhớ người tình mưa nắng gió mây trời đất biển sông
núi hoa lá xuân hạ thu đông đêm ngày sáng chiều hôm qua mai nay mãi còn đâu về đi đến xa gần
chờ đợi hẹn ước mơ giấc buồn vui khóc cười nụ hôn tay môi mắt tim lòng đời phố phường quê hương
mẹ cha con bạn bè cô gái chàng trai một hai ba bốn năm trăm nghìn triệu lần nữa thôi rồi đừng
không có là của cho với trong ngoài trên dưới bên nhau cùng riêng đơn côi lạc trôi bạc phận bác sĩ
hồng xanh đỏ tím vàng trắng đen ánh sao trăng đường làng tàu ga chuyến cuối đầu tiên hãy trao nơi này`)

// GeneratedTitle makes a plausible Vietnamese song title of 2 to 6 words,
// first letter capitalised: the corpus of the search benchmarks (pgsearch's
// BenchmarkSongsSearch and `make bench`), one generator so both measure the same.
func GeneratedTitle(r *rand.Rand) string {
	n := 2 + r.IntN(5)
	words := make([]string, n)
	for i := range words {
		w := titleWords[r.IntN(len(titleWords))]
		if i == 0 {
			rs := []rune(w)
			w = strings.ToUpper(string(rs[:1])) + string(rs[1:])
		}
		words[i] = w
	}
	return strings.Join(words, " ")
}
